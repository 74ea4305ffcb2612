# Fails with an exception whose message is one 1 MB line. The error's message and traceback go to
# the terminal, the log and the model's repair prompt, so they must be capped like printed output.
raise RuntimeError("refigure " * 115_000)
