"""Measured data with a cutoff (`unga`: UN General Assembly ideal points) and the measurement
model that maps simulated alignment onto it (`measurement`).
"""
