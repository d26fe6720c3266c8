"""Instructor tooling: release, collect, autograde (in parallel, tamper-proof), feedback, export
and publish, on top of nbgrader. Installed with the course as the `rnn-course` command.

Students never need this package; `helpers` never imports it.
"""
