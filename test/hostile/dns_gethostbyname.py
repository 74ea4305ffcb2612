# Resolves a host name the old way.
import socket
print(socket.gethostbyname("localhost"))
