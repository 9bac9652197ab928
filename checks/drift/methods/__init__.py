"""The registry of drift methods: Evidently's, by Evidently's names, and our two-sample tests."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from checks.drift.methods.base import (
    DistanceMethod,
    DriftMethod,
    Kind,
    NotApplicable,
    PValueMethod,
    UndefinedScore,
)
from checks.drift.methods.binned import PSI, Hellinger, JensenShannon, KLDivergence
from checks.drift.methods.categorical import ChiSquare, FisherExact, GTest, ZTest
from checks.drift.methods.numerical import (
    KS,
    AndersonDarling,
    CramerVonMises,
    EnergyDistance,
    EppsSingleton,
    MannWhitney,
    TTest,
    Wasserstein,
)
from checks.drift.methods.permutation import TVD, EmpiricalMMD
from checks.drift.methods.twosample import (
    AndersonDarling2S,
    ChiSquare2S,
    GTest2S,
    MannWhitney2S,
)
from checks.errors import UnknownNameError

_CLASSES: tuple[type[DriftMethod], ...] = (
    KS,
    ChiSquare,
    ZTest,
    Wasserstein,
    PSI,
    KLDivergence,
    JensenShannon,
    Hellinger,
    AndersonDarling,
    CramerVonMises,
    EnergyDistance,
    EppsSingleton,
    FisherExact,
    GTest,
    MannWhitney,
    TTest,
    EmpiricalMMD,
    TVD,
)

#: Every drift method, by Evidently's name, with its default parameters.
METHODS: Mapping[str, DriftMethod] = MappingProxyType({cls.name: cls() for cls in _CLASSES})

#: Tests that are not Evidently's, under their own names (checks/drift/methods/twosample.py).
TWO_SAMPLE: Mapping[str, DriftMethod] = MappingProxyType(
    {cls.name: cls() for cls in (ChiSquare2S, GTest2S, MannWhitney2S, AndersonDarling2S)}
)


def get_method(name: str) -> DriftMethod:
    """The registered method called ``name``; :class:`UnknownNameError` lists the known ones."""
    method = METHODS.get(name) or TWO_SAMPLE.get(name)
    if method is None:
        raise UnknownNameError("drift method", name, [*METHODS, *TWO_SAMPLE])
    return method


__all__ = [
    "KS",
    "METHODS",
    "PSI",
    "TVD",
    "TWO_SAMPLE",
    "AndersonDarling",
    "AndersonDarling2S",
    "ChiSquare",
    "ChiSquare2S",
    "CramerVonMises",
    "DistanceMethod",
    "DriftMethod",
    "EmpiricalMMD",
    "EnergyDistance",
    "EppsSingleton",
    "FisherExact",
    "GTest",
    "GTest2S",
    "Hellinger",
    "JensenShannon",
    "KLDivergence",
    "Kind",
    "MannWhitney",
    "MannWhitney2S",
    "NotApplicable",
    "PValueMethod",
    "TTest",
    "UndefinedScore",
    "Wasserstein",
    "ZTest",
    "get_method",
]
