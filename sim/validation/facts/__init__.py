"""Stylized facts: the source article's own assessments as validation targets (`facts`), the
checks declared beside each scenario (`checks`) and the defaults of a validation run
(`settings`).
"""
