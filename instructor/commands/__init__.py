"""One module per `rnn-course` command, named as the command: its `HELP` line, its arguments
(`add_arguments`) and what it does (`run`); `instructor.cli` lists them. `selection` holds the
-a/-s arguments they share and the check that each name asked for exists."""
