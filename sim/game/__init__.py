"""The strategic games of a scenario at a date, solved with Gambit (docs/game.md).

`stage` (the runs' world at the date) -> `trees` (the deal, the nuclear file; payoffs from
`payoffs`, the model's utility terms played out over a horizon) -> `gambit` (a pygambit game,
`.efg`) -> `solve` (subgame-perfect and Nash equilibria, logit QRE, thresholds) -> `study`
(all of it, beside the simulated moves; grids for sweeps). Only `gambit` and `solve` import
pygambit (extra ``game``).
"""
