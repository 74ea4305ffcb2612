# Writes into /tmp outside its scratch folder.
with open("{{OUTSIDE}}/tmp-escape.txt", "w") as f:
    f.write("escaped")
