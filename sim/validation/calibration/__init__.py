"""Calibration by ABC-SMC: the problem (`problem`), the sampler (`calibration`,
`batch_sampler`), Morris screening (`screening`), posterior predictive checks (`predictive`),
the calibration directory (`record`) and the posterior in use (`posterior`).
"""
