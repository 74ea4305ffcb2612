# Carries terminal control sequences in everything a terminal might show: printed output (OSC 52
# clipboard write, an OSC 8 link disguised as another, clear screen, a C1 CSI, a bell), an exception
# class name and its message.
print("clipboard \x1b]52;c;cm0gLXJmIH4vCg==\x07 done")
print("link \x1b]8;;https://attacker.example/\x1b\\https://matplotlib.org\x1b]8;;\x1b\\ end")
print("\x1b[2J\x1b[Hscreen cleared \x9b31m red \x07")
Escaped = type("Error\x1b]0;owned\x07", (Exception,), {})
raise Escaped("\x1b]52;c;cm0gLXJmIH4vCg==\x07 \x1b[2J message \x1b]8;;https://attacker.example/\x1b\\link\x1b]8;;\x1b\\")
