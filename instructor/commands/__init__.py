"""One module per `rnn-course` command, named as the command: its arguments
(`add_arguments`) and what it does (`run`). `instructor.cli` only lists them."""
