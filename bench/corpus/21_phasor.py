# Phasor diagram of an RLC circuit: V_R, V_L, V_C and the resultant V with phase angle.
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Arc

vr, vl, vc = 4.0, 5.0, 2.0
fig, ax = plt.subplots(figsize=(5.5, 5.5))
style = dict(angles="xy", scale_units="xy", scale=1, width=0.012)
ax.quiver(0, 0, vr, 0, color="tab:blue", **style)
ax.quiver(0, 0, 0, vl, color="tab:red", **style)
ax.quiver(0, 0, 0, -vc, color="tab:green", **style)
ax.quiver(0, 0, vr, vl - vc, color="black", **style)
ax.plot([vr, vr], [0, vl - vc], "k:", linewidth=1)
ax.plot([0, vr], [vl - vc, vl - vc], "k:", linewidth=1)
phi = np.degrees(np.arctan2(vl - vc, vr))
ax.add_patch(Arc((0, 0), 2.4, 2.4, theta1=0, theta2=phi, color="purple"))
ax.text(1.35, 0.35, r"$\varphi$", fontsize=14, color="purple")
ax.text(vr + 0.1, -0.4, r"$V_R$", fontsize=13, color="tab:blue")
ax.text(0.15, vl, r"$V_L$", fontsize=13, color="tab:red")
ax.text(0.15, -vc, r"$V_C$", fontsize=13, color="tab:green")
ax.text(vr + 0.1, vl - vc + 0.1, r"$V$", fontsize=13)
ax.axhline(0, color="gray", linewidth=0.6)
ax.axvline(0, color="gray", linewidth=0.6)
ax.set_xlim(-1, 6)
ax.set_ylim(-3, 6)
ax.set_aspect("equal")
ax.set_title("Phasor diagram, series RLC")
plt.show()
