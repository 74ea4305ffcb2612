# Never ends, burning CPU.
while True:
    pass
