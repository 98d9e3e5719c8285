"""Experiments: experiment files (`experiment`), designs over parameters (`design`) and the
sweep runner (`runner`) that executes them in chunks into a results directory.
"""
