# Writes into the user's real home folder.
with open("{{HOME_TARGET}}", "w") as f:
    f.write("escaped")
