# Waits for input that never comes.
print(input("value? "))
