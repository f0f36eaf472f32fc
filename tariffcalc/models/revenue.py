"""The revenue ladder: from the static added duty to the net budget effect, one step at a time.

1. **static**: the added duty on unchanged trade, ``Σ (t1 − t0) M0`` (USD per year);
2. **after_response**: the change in customs duties once trade has responded, ``Σ t1 M1 − Σ t0 M0`` (it also
   counts the duty lost on baseline duties when imports fall);
3. **after_compliance**: step 2 less a noncompliance/evasion haircut ``c``: ``R2 (1 − c)``;
4. **net_of_offset**: also less the income and payroll tax offset ``o``: ``R2 (1 − c − o)``.

Steps 3 and 4 follow the Yale Budget Lab's tariff model, where both shares apply to the same gross
revenue (net = gross × (1 − compliance − offset)); the defaults are its values (c = 0.10, o = 0.23; CBO's
convention for the offset is 0.25). The figures are annual, at 2024 trade values, fully phased in.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class LadderStep:
    """One step of the ladder: ``revenue_usd`` is the change in federal revenue, USD per year."""

    step: str
    label: str
    revenue_usd: float
    note: str


def ladder(
    static_usd: float, after_response_usd: float, compliance_haircut: float, income_payroll_offset: float
) -> list[LadderStep]:
    """The four steps from the static added duty (USD) and the revenue change after the response (USD).

    ``compliance_haircut`` and ``income_payroll_offset`` are fractions of the after-response revenue.
    """
    return [
        LadderStep("static", "Static added duty (trade unchanged)", static_usd, "Σ (t1 − t0) · M0"),
        LadderStep(
            "after_response",
            "After the trade response",
            after_response_usd,
            "Σ t1 · M1 − Σ t0 · M0: scenario duty on the new imports less the baseline duty",
        ),
        LadderStep(
            "after_compliance",
            "After noncompliance and evasion",
            after_response_usd * (1.0 - compliance_haircut),
            f"after_response × (1 − {compliance_haircut:g})",
        ),
        LadderStep(
            "net_of_offset",
            "Net of the income and payroll tax offset",
            after_response_usd * (1.0 - compliance_haircut - income_payroll_offset),
            f"after_response × (1 − {compliance_haircut:g} − {income_payroll_offset:g})",
        ),
    ]
