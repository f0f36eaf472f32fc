"""Parameters of the response models: defaults with their sources, per-chapter overrides, validation.

Every number the models use has a default taken from a cited row of the bundled ``parameters.csv`` or
``elasticities_hs2.csv`` (``data/README.md`` says where each comes from), and every one can be replaced on
the command line, in a scenario's ``[parameters]`` table (:meth:`Parameters.from_mapping`) or, for the three
elasticities, per HS chapter from a CSV file (:func:`read_chapter_file`).

Precedence for an elasticity in a chapter: the chapter CSV, then a single value given for all chapters,
then the bundled default (for the import demand elasticity: Hauk's chapter median, else the flat fallback).

Units: elasticities are magnitudes (import demand slopes down; a positive number is its absolute value),
shares and rates are fractions, money is nominal USD.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tariffcalc.errors import ModelError, suggest
from tariffcalc.reference import bundled

INFINITE_WORDS = ("inf", "infinite", "infinity")
"""Text accepted for an infinitely elastic export supply (``--export-supply-elasticity inf``)."""

ELASTICITIES = ("import_demand_elasticity", "substitution_elasticity", "export_supply_elasticity")
"""The three elasticities that may vary by HS chapter."""

CHAPTER_FILE_EXTRA_COLUMNS = ("description", "note", "source")
"""Text columns a per-chapter CSV may carry besides ``hs`` and the elasticities; they are ignored."""


@dataclasses.dataclass(frozen=True)
class Default:
    """A default value with its unit and source (``row`` names its row in the bundled parameters.csv)."""

    value: float
    unit: str
    source: str
    row: str = ""


def _row(name: str) -> float:
    table = bundled.read_table("parameters.csv")
    match = table.loc[table["name"] == name, "value"]
    if match.empty:
        raise ModelError(f"The bundled parameters.csv has no row {name!r}; reinstall tariffcalc.")
    return float(match.iloc[0])


@functools.cache
def defaults() -> dict[str, Default]:
    """The default of every scalar parameter, read from the bundled parameters.csv, with its source."""
    return {
        "substitution_elasticity": Default(
            _row("smart_substitution_elasticity_default"),
            "elasticity",
            "SMART default substitution elasticity between supplying partners (World Bank WITS online help, "
            "SMART: 'Checking the Raw Data')",
            "smart_substitution_elasticity_default",
        ),
        "export_supply_elasticity": Default(
            math.inf,
            "elasticity",
            "SMART default: infinitely elastic export supply (SMART encodes it as 99; tariffcalc uses true "
            "infinity, so world prices do not move)",
            "smart_export_supply_elasticity_default",
        ),
        "import_demand_elasticity_fallback": Default(
            abs(_row("tax_foundation_import_elasticity")),
            "elasticity (magnitude)",
            "Flat import demand elasticity of the Tax Foundation (2024), used for chapters without a Hauk "
            "(2012) estimate (31, 77, 98, 99) and for flows without a chapter",
            "tax_foundation_import_elasticity",
        ),
        "pass_through": Default(
            _row("us_buyer_share_of_tariff_2018_19"),
            "fraction",
            "Full pass-through of duties to US buyers' prices, as measured for the 2018-19 tariffs by "
            "Amiti, Redding and Weinstein (2019), Fajgelbaum et al. (2020), Cavallo et al. (2021)",
            "us_buyer_share_of_tariff_2018_19",
        ),
        "pass_through_low": Default(
            1.0 - _row("cbo_us_business_absorption_near_term"),
            "fraction",
            "Low end of the price range: US businesses absorb 30 % of import price increases in the near "
            "term (CBO Budget and Economic Outlook 2026-2036, as reported; low confidence)",
            "cbo_us_business_absorption_near_term",
        ),
        "substitution_elasticity_high": Default(
            _row("armington_elasticity_meta_median"),
            "elasticity",
            "High substitution elasticity for the low end of the price range: median of 3,524 Armington "
            "estimates, Bajzik, Havranek, Irsova and Schwarz (2020)",
            "armington_elasticity_meta_median",
        ),
        "import_share_of_consumption": Default(
            _row("import_content_of_pce_2017"),
            "fraction of PCE",
            "Import content of US personal consumption expenditures at all stages of production, 2017: "
            "Hale, Hobijn, Nechio and Wilson (2019), FRBSF Economic Letter 2019-01",
            "import_content_of_pce_2017",
        ),
        "compliance_haircut": Default(
            _row("ybl_compliance_effect"),
            "fraction of revenue",
            "Noncompliance/evasion haircut of the Yale Budget Lab tariff model",
            "ybl_compliance_effect",
        ),
        "income_payroll_offset": Default(
            _row("ybl_income_payroll_offset"),
            "fraction of revenue",
            "Income and payroll tax offset of the Yale Budget Lab tariff model (CBO's convention: 0.25, "
            "range 0.21-0.25)",
            "ybl_income_payroll_offset",
        ),
        "pce_usd": Default(
            _row("pce_total_2024"),
            "USD per year",
            "Personal consumption expenditures 2024, BEA PCE Bridge Table 2024 (NIPA Table 2.4.5)",
            "pce_total_2024",
        ),
        "households": Default(
            _row("us_households_2024"),
            "households",
            "US households 2024, Census CPS ASEC (FRED series TTLHH)",
            "us_households_2024",
        ),
    }


IMPORT_DEMAND_SOURCE = (
    "Hauk (2012), Empirical Economics 43, doi:10.1007/s00181-011-0456-1: US import demand elasticities, "
    "median of the correctly signed HS6 estimates in each HS chapter (bundled elasticities_hs2.csv)"
)

# (lowest, highest, may be infinite, description) of each settable number; bounds are inclusive.
_BOUNDS: dict[str, tuple[float, float, bool, str]] = {
    "import_demand_elasticity": (0.0, math.inf, False, "a number >= 0 (a magnitude: 1.0 means -1.0)"),
    "substitution_elasticity": (0.0, math.inf, False, "a number >= 0"),
    "export_supply_elasticity": (0.0, math.inf, True, "a number > 0, or 'inf' for infinitely elastic supply"),
    "pass_through": (0.0, 1.0, False, "a fraction between 0 and 1"),
    "pass_through_low": (0.0, 1.0, False, "a fraction between 0 and 1"),
    "substitution_elasticity_high": (0.0, math.inf, False, "a number >= 0"),
    "import_share_of_consumption": (0.0, 1.0, False, "a fraction between 0 and 1"),
    "compliance_haircut": (0.0, 1.0, False, "a fraction between 0 and 1"),
    "income_payroll_offset": (0.0, 1.0, False, "a fraction between 0 and 1"),
    "pce_usd": (0.0, math.inf, False, "a positive amount in USD"),
    "households": (0.0, math.inf, False, "a positive number of households"),
}
_POSITIVE = ("export_supply_elasticity", "pce_usd", "households")

KEYS = (*_BOUNDS, "elasticities_file")
"""Keys accepted by :meth:`Parameters.from_mapping` (the scenario file's ``[parameters]`` table)."""


def parse_number(name: str, value: Any, where: str = "") -> float:
    """Check one parameter value and return it as a float (``'inf'`` allowed where infinity is).

    Raises :class:`ModelError` naming the parameter, the place (``where``) and the accepted values.
    """
    low, high, may_be_infinite, accepted = _BOUNDS[name]
    place = f" ({where})" if where else ""
    number: float | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if text in INFINITE_WORDS:
            number = math.inf
        else:
            try:
                number = float(text)
            except ValueError:
                number = None
    if number is None or math.isnan(number):
        raise ModelError(f"{name} must be {accepted}, not {value!r}{place}.")
    if math.isinf(number) and not may_be_infinite:
        raise ModelError(f"{name} must be finite: {accepted}, not {value!r}{place}.")
    if number < low or number > high or (name in _POSITIVE and number == 0):
        raise ModelError(f"{name} must be {accepted}, not {value!r}{place}.")
    return number


@dataclasses.dataclass(frozen=True)
class Parameters:
    """Parameters of a response run; ``None`` means "the bundled default" (see :func:`defaults`).

    ``import_demand_elasticity`` given here replaces Hauk's chapter values for every chapter;
    ``elasticities_file`` is a per-chapter CSV (:func:`read_chapter_file`) that beats both.
    """

    import_demand_elasticity: float | None = None
    substitution_elasticity: float | None = None
    export_supply_elasticity: float | None = None
    pass_through: float | None = None
    pass_through_low: float | None = None
    substitution_elasticity_high: float | None = None
    import_share_of_consumption: float | None = None
    compliance_haircut: float | None = None
    income_payroll_offset: float | None = None
    pce_usd: float | None = None
    households: float | None = None
    elasticities_file: Path | None = None

    def __post_init__(self) -> None:
        for name in _BOUNDS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, parse_number(name, value))
        if self.elasticities_file is not None:
            object.__setattr__(self, "elasticities_file", Path(self.elasticities_file))
        if self.value("compliance_haircut") + self.value("income_payroll_offset") >= 1.0:
            raise ModelError(
                "compliance_haircut + income_payroll_offset must be below 1 (they are shares of the same "
                f"revenue), not {self.value('compliance_haircut')} + {self.value('income_payroll_offset')}."
            )

    @classmethod
    def from_mapping(
        cls, table: Mapping[str, Any], where: str = "[parameters]", base_dir: Path | None = None
    ) -> Parameters:
        """Parameters from a mapping such as a scenario file's ``[parameters]`` table.

        Unknown keys are errors with a suggestion; ``elasticities_file`` is read relative to ``base_dir``
        (the scenario file's folder) when it is not absolute. ``where`` names the place in messages.
        """
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in KEYS:
                raise ModelError(
                    f"Unknown parameter {key!r} in {where}.{suggest(key, KEYS)} Known parameters: {', '.join(KEYS)}."
                )
            if key == "elasticities_file":
                if not isinstance(value, str) or not value.strip():
                    raise ModelError(
                        f"elasticities_file must be a path to a CSV file, not {value!r} ({where})."
                    )
                path = Path(value)
                values[key] = path if path.is_absolute() or base_dir is None else base_dir / path
            else:
                values[key] = parse_number(key, value, where)
        return cls(**values)

    def with_overrides(self, **overrides: Any) -> Parameters:
        """A copy with the given values replaced; ``None`` values are ignored (options not given)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        unknown = [k for k in given if k not in KEYS]
        if unknown:
            raise ModelError(f"Unknown parameter {unknown[0]!r}.{suggest(unknown[0], KEYS)}")
        return dataclasses.replace(self, **given)

    def value(self, name: str) -> float:
        """The value in force for a scalar parameter: the one given, else the bundled default."""
        given = getattr(self, name)
        return float(given) if given is not None else defaults()[name].value

    def chapter_elasticities(self, chapters: Sequence[str] | np.ndarray) -> pd.DataFrame:
        """The three elasticities for each chapter in ``chapters`` (2-digit text; other codes fall back).

        Returns a frame aligned with ``chapters`` with columns ``hs`` and the three :data:`ELASTICITIES`.
        """
        codes = pd.Series(np.asarray(chapters, dtype=object), dtype=object)
        frame = pd.DataFrame({"hs": codes})
        hauk = bundled_import_demand()
        if self.import_demand_elasticity is not None:
            eta = pd.Series(self.import_demand_elasticity, index=codes.index, dtype=float)
        else:
            eta = codes.map(hauk).astype(float).fillna(defaults()["import_demand_elasticity_fallback"].value)
        frame["import_demand_elasticity"] = eta.to_numpy()
        frame["substitution_elasticity"] = self.value("substitution_elasticity")
        frame["export_supply_elasticity"] = self.value("export_supply_elasticity")
        if self.elasticities_file is not None:
            overrides = read_chapter_file(self.elasticities_file)
            for column in ELASTICITIES:
                if column in overrides:
                    given = codes.map(overrides[column].dropna()).astype(float)
                    frame[column] = given.fillna(frame[column]).to_numpy()
        return frame

    def describe(self) -> list[dict[str, Any]]:
        """Every parameter with its value in force, unit and source (``"set by the user"`` when given)."""
        rows: list[dict[str, Any]] = []
        if self.import_demand_elasticity is None:
            rows.append(
                {
                    "name": "import_demand_elasticity",
                    "value": "by HS chapter",
                    "unit": "elasticity (magnitude)",
                    "source": IMPORT_DEMAND_SOURCE,
                }
            )
        else:
            rows.append(_user_row("import_demand_elasticity", self.import_demand_elasticity, "elasticity"))
        for name, default in defaults().items():
            given = getattr(self, name, None)
            if given is None:
                value: Any = "inf" if math.isinf(default.value) else default.value
                rows.append({"name": name, "value": value, "unit": default.unit, "source": default.source})
            else:
                rows.append(_user_row(name, given, default.unit))
        if self.elasticities_file is not None:
            rows.append(
                {
                    "name": "elasticities_file",
                    "value": str(self.elasticities_file),
                    "unit": "per-chapter CSV",
                    "source": "set by the user; its chapters replace the values above",
                }
            )
        return rows


def _user_row(name: str, value: float, unit: str) -> dict[str, Any]:
    return {
        "name": name,
        "value": "inf" if math.isinf(value) else value,
        "unit": unit,
        "source": "set by the user",
    }


@functools.cache
def bundled_import_demand() -> dict[str, float]:
    """Hauk (2012) US import demand elasticity (magnitude) by 2-digit chapter, from elasticities_hs2.csv."""
    table = bundled.read_table("elasticities_hs2.csv")
    return dict(zip(table["hs"], table["import_demand_elasticity"].astype(float), strict=True))


def read_chapter_file(path: Path | str) -> pd.DataFrame:
    """Read a per-chapter elasticity CSV: column ``hs`` (chapter, 1-2 digits) and any of :data:`ELASTICITIES`.

    Empty cells leave the chapter's value as it was. Returns a frame indexed by 2-digit chapter text with
    one float column per elasticity present (NaN where empty). Raises :class:`ModelError` with the file
    and line of the first problem.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise ModelError(f"Elasticities file {path} does not exist.") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ModelError(f"Cannot read elasticities file {path} as CSV: {exc}") from None
    table.columns = [str(c).strip().lstrip("\ufeff") for c in table.columns]
    allowed = ("hs", *ELASTICITIES, *CHAPTER_FILE_EXTRA_COLUMNS)
    for column in table.columns:
        if column not in allowed:
            raise ModelError(
                f"{path}: unknown column {column!r}.{suggest(column, allowed)} "
                f"Columns: hs and any of {', '.join(ELASTICITIES)}."
            )
    present = [c for c in ELASTICITIES if c in table.columns]
    if "hs" not in table.columns or not present:
        raise ModelError(
            f"{path}: needs a column 'hs' (HS chapter) and at least one of {', '.join(ELASTICITIES)}."
        )
    out: dict[str, dict[str, float]] = {c: {} for c in present}
    seen: dict[str, int] = {}
    for index, row in table.iterrows():
        line = int(index) + 2
        chapter = row["hs"].strip()
        if not (chapter.isdigit() and 1 <= len(chapter) <= 2):
            raise ModelError(
                f"{path}, line {line}: hs must be an HS chapter of 1-2 digits (e.g. 01, 87), not {chapter!r}."
            )
        chapter = chapter.zfill(2)
        if chapter in seen:
            raise ModelError(
                f"{path}, line {line}: chapter {chapter} is listed twice (also on line {seen[chapter]})."
            )
        seen[chapter] = line
        for column in present:
            text = row[column].strip()
            out[column][chapter] = parse_number(column, text, f"{path}, line {line}") if text else math.nan
    return pd.DataFrame(out, dtype=float)
