# Fills the disk from inside scratch.
with open("big.bin", "wb") as f:
    for _ in range(1024):
        f.write(b"\0" * (1024 * 1024))
