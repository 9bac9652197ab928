"""The registry of drift methods, by Evidently's names."""

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


def get_method(name: str) -> DriftMethod:
    """The registered method called ``name``; :class:`UnknownNameError` lists the known ones."""
    try:
        return METHODS[name]
    except KeyError:
        raise UnknownNameError("drift method", name, METHODS) from None


__all__ = [
    "KS",
    "METHODS",
    "PSI",
    "TVD",
    "AndersonDarling",
    "ChiSquare",
    "CramerVonMises",
    "DistanceMethod",
    "DriftMethod",
    "EmpiricalMMD",
    "EnergyDistance",
    "EppsSingleton",
    "FisherExact",
    "GTest",
    "Hellinger",
    "JensenShannon",
    "KLDivergence",
    "Kind",
    "MannWhitney",
    "NotApplicable",
    "PValueMethod",
    "TTest",
    "UndefinedScore",
    "Wasserstein",
    "ZTest",
    "get_method",
]
