# Connects a raw socket by address, skipping name resolution.
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("127.0.0.1", {{PORT}}))
