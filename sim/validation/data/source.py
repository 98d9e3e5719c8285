"""The seam between calibration and measured data: what a data source must offer, and a registry.

A calibration needs five things of the data it fits, whatever the data are:

- ``load(until, path)``: the data up to a cutoff (nothing after ``until`` is read), with the file
  it came from (``source``) and that file's hash (``sha256``);
- ``observe(declaration, data, start, months)``: the observations (`Observed`: an anchor level and
  a value per measured pair and later year, with its measurement standard deviation);
- ``predict(aligned, initial, observed, values, normals)``: what the measurement model predicts
  for simulated alignment, given the measurement parameters (``values``, by name);
- ``summary_names(observed)`` and ``summaries(predicted, observed)``: the statistics compared;
- ``priors(declaration, data)``: uniform priors of the measurement parameters (``parameters``).

A measurement declaration (``scenarios/measurement/*.toml``) chooses its source by name with
``[data] source = "..."`` (default ``"unga"``: the UN General Assembly, `unga` and
`measurement`). A new source is one module that defines an object with these members and calls
`register` on it; `get` finds it by the declaration's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sim.errors import SimInputError
from sim.validation.data import measurement as ms
from sim.validation.data import unga


class Loaded(Protocol):
    """What `DataSource.load` returns: the data, where they came from and up to when."""

    source: str
    sha256: str
    until: int


class DataSource(Protocol):
    """A kind of measured data a calibration can fit (see the module docstring)."""

    name: str
    parameters: tuple[str, ...]  # the measurement parameters, calibrated with the model's

    def load(self, until: int, path: str | Path | None = None) -> Any:
        """The data up to ``until`` (a `Loaded`); nothing later is read."""

    def observe(
        self, decl: ms.Measurement, data: Any, start: str, months: int | None = None
    ) -> ms.Observed:
        """The declared pairs' observations after the anchor (within ``months`` of ``start``)."""

    def predict(
        self,
        aligned: np.ndarray,
        initial: np.ndarray,
        obs: ms.Observed,
        values: Mapping[str, np.ndarray],
        normals: np.ndarray | None,
    ) -> np.ndarray:
        """Predicted observations (R, P, Y) of simulated alignment (R, P, Y) and month 0 (R, P);
        ``normals`` (R, P, Y) standard normals for the error term, or None for its expectation.
        """

    def summary_names(self, obs: ms.Observed) -> tuple[str, ...]:
        """Names of the summary statistics a calibration compares."""

    def summaries(self, predicted: np.ndarray, obs: ms.Observed) -> np.ndarray:
        """Summary statistics (R, S) of predicted observations (R, P, Y)."""

    def priors(self, decl: ms.Measurement, data: Any) -> tuple[ms.Prior, ...]:
        """Uniform priors of the measurement parameters, from data before the observations."""


class Unga:
    """UN General Assembly ideal-point distances (`unga` reads them, `measurement` models them)."""

    name = "unga"
    parameters = ms.PARAMETERS

    def load(self, until: int, path: str | Path | None = None) -> unga.Data:
        """`unga.load`."""
        return unga.load(until, path)

    def observe(
        self, decl: ms.Measurement, data: unga.Data, start: str, months: int | None = None
    ) -> ms.Observed:
        """`measurement.observe`: pair distances after the anchor sessions."""
        return ms.observe(decl, data, start, months)

    def predict(
        self,
        aligned: np.ndarray,
        initial: np.ndarray,
        obs: ms.Observed,
        values: Mapping[str, np.ndarray],
        normals: np.ndarray | None,
    ) -> np.ndarray:
        """`measurement.predict` with the scale, offset and noise of ``values``."""
        scale, offset, noise = (values[n] for n in self.parameters)
        return ms.predict(aligned, initial, obs, scale, offset, noise, normals)

    def summary_names(self, obs: ms.Observed) -> tuple[str, ...]:
        """`measurement.summary_names`: each pair's change from the anchor and trend."""
        return ms.summary_names(obs)

    def summaries(self, predicted: np.ndarray, obs: ms.Observed) -> np.ndarray:
        """`measurement.summaries`."""
        return ms.summaries(predicted, obs)

    def priors(self, decl: ms.Measurement, data: unga.Data) -> tuple[ms.Prior, ...]:
        """`measurement.priors`: from the sessions up to the anchor's end."""
        return ms.priors(decl, data)


_SOURCES: dict[str, DataSource] = {}


def register(source: DataSource) -> DataSource:
    """Make a data source available to measurement declarations under ``source.name``."""
    _SOURCES[source.name] = source
    return source


def names() -> tuple[str, ...]:
    """Names of the registered data sources."""
    return tuple(sorted(_SOURCES))


def get(decl: ms.Measurement) -> DataSource:
    """The data source a measurement declaration names (an input error if none has that name)."""
    try:
        return _SOURCES[decl.data_source]
    except KeyError:
        raise SimInputError(
            "unknown data source",
            file=decl.source,
            field="data.source",
            found=decl.data_source,
            allowed=", ".join(names()),
        ) from None


register(Unga())
