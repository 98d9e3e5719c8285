"""Backtests: observables in the model's terms (`events`), forecast ensembles with parameter
uncertainty (`ensemble`), proper scoring rules (`scores`) and the backtest itself
(`backtest`).
"""
