# Prints non-ASCII text and bytes that are not UTF-8.
import sys
print("π ≈ 3.14159 — ∑ 😀")
sys.stdout.flush()
sys.stdout.buffer.write(b"odd bytes: \xff\xfe\x00 end\n")
sys.stdout.flush()
import matplotlib.pyplot as plt
plt.title("π ≈ 3.14159 — ∑")
plt.plot([0, 1])
