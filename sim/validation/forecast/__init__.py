"""Sealed forecasts (`forecast`), UN General Assembly distances through a calibration's
measurement model (`distances`) and the append-only ledger of sealed records (`ledger`).
"""
