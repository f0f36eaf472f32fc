"""The dated rulebook `us-tariffs`: dated HTS10 x partner cases worked out by hand from the law.

Each case gives the added rate (scenario minus the observed 2024 baseline) that the legal texts imply on
that date, the arithmetic, and the address the rate was read at (the research notes in docs/sources/ name
them too). Where the answer depends on data (a pair's observed 2024 rate for an all-in floor, a metal
content share, a USMCA claim share), the test reads that datum straight from the bundled files with
pandas, not from the engine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable

import pandas as pd
import pytest

from tariffcalc.reference import bundled
from tariffcalc.rules.explain import explain
from tariffcalc.rules.scenario import BASES, load_scenario

D = dt.date.fromisoformat

# Sources (URLs read; see the measures of data/scenarios/us-tariffs.toml)
EO14195 = "https://govinfo.gov/content/pkg/FR-2025-02-07/html/2025-02408.htm"
EO14228 = "https://executiveactions.org/304"
CHINA_NOV = "https://content.govdelivery.com/accounts/USDHSCBP/bulletins/3fa83c4"
EO14257 = "https://executiveactions.org/390"
EO14259 = "https://govinfo.gov/content/pkg/FR-2025-04-14/html/2025-06378.htm"
EO14266 = "https://govinfo.gov/content/pkg/FR-2025-04-15/html/2025-06462.htm"
EO14298 = "https://govinfo.gov/content/pkg/FR-2025-05-21/html/2025-09297.htm"
EO14326 = "https://www.mallorygroup.com/ieepa-reciprocal-tariffs"
EU_FLOOR = "https://www.nnrglobal.com/insight/new-higher-reciprocal-tariffs-start-aug-7"
SWISS = "https://nnrglobal.com/insight/new-reciprocal-rate-for-switzerland-and-liechtenstein-retroactive"
KOREA = "https://govinfo.gov/content/pkg/FR-2025-12-04/html/2025-21940.htm"
BRAZIL = "https://govinfo.gov/content/pkg/FR-2025-08-05/html/2025-14896.htm"
BRAZIL_NOV = (
    "https://particle.news/story/us-lifts-40-surtax-on-key-brazilian-farm-goods-including-coffee-and-beef"
)
INDIA = "https://content.govdelivery.com/accounts/USDHSCBP/bulletins/4090d47"
EO14193 = "https://en.wikisource.org./wiki/Page:Executive_Order_14193.pdf/1"
EO14231 = "https://govinfo.gov/content/pkg/CDOC-119hdoc26/html/CDOC-119hdoc26.htm"
EO14325 = "https://govinfo.gov/content/pkg/FR-2025-08-06/html/2025-14999.htm"
EO14289 = "https://www.govinfo.gov/content/pkg/FR-2025-05-02/html/2025-07835.htm"
STEEL = "https://govinfo.gov/content/pkg/FR-2025-02-18/html/2025-02833.htm"
P10947 = "https://www.internationaltradeinsights.com/2025/06/amendment-to-imports-of-aluminum-and-steel-increases-232-tariffs-to-50/"
UK_METALS = "https://particle.news/story/us-doubles-steel-and-aluminum-tariffs-to-50-exempting-uk"
CONTENT_FAQ = (
    "https://gsm.international/recent-cbp-section-232-steel-and-aluminum-tariff-faq-updates-of-interest"
)
P11021 = "https://www.ashurstperkinscoie.com/en/insights/restructured-and-additional-section-232-tariffs-on-aluminum-steel-and-copper/"
AUTOS = "https://www.govinfo.gov/content/pkg/FR-2025-04-03/html/2025-05930.htm"
AUTO_FAQ = "https://www.cbp.gov/trade/programs-administration/entry-summary/section-232-additional-faqs-autos"
JAPAN_AUTOS = "https://www.govinfo.gov/content/pkg/FR-2025-09-16/html/2025-17908.htm"
COPPER = "https://www.mti-worldwide.com/current-events-worldwide-logistics-blog/section-232-import-duties-on-copper-and-copper-derivative-products-csms-65794272"
WOOD = "https://krenzhannanintl.com/customer-service-advisory-10-14-25"
TRUCKS = "https://www.govinfo.gov/content/pkg/FR-2025-10-22/html/2025-19639.htm"
SEMIS = "https://www.whitecase.com/insight-alert/president-trump-orders-narrowly-targeted-25-section-232-tariff-certain-advanced"
INFO = "https://www.cbp.gov/trade/programs-administration/trade-remedies/IEEPA-FAQ"
CH98 = "http://stage.internationaltradetoday.com/article/2025/12/05/cbp-updates-ieepa-tariff-faq-with-information-on-chapter-98-filings-2512050060?BC=bc_694334fc31f37"
SCOTUS = "https://en.wikipedia.org/wiki/Learning_Resources,_Inc._v._Trump"
S122 = "https://jmrodgers.com/cbp-issues-guidance-on-temporary-10-percent-section-122-import-surcharge"
FORCED_LABOR = "https://www.greenwich-mercantile.com/section-301-forced-labor-tariffs-2026"
S301_BRAZIL = "https://info.expeditors.com/newsflash/ustr-proposes-25-section-301-tariff-on-brazil"


# ------------------------------------------------------------------------------- data read independently


@functools.cache
def _flows() -> pd.DataFrame:
    return bundled.default_flows().set_index(["partner", "hs"])


def observed(partner: str, code: str) -> float:
    """The pair's observed 2024 rate: Census calculated duty ÷ customs value of that very cell."""
    row = _flows().loc[(partner, code)]
    return float(row["calc_duty_usd"]) / float(row["value_usd"])


@functools.cache
def _metal() -> pd.DataFrame:
    return pd.read_csv(bundled.data_path("metal_content.csv"), dtype={"hs": str}).set_index("hs")


def metal(code: str, column: str) -> float:
    return float(_metal().loc[code, column])


@functools.cache
def _usmca() -> pd.DataFrame:
    return pd.read_parquet(bundled.data_path("usmca_shares.parquet")).set_index(["partner", "month", "hs"])


def claimed(partner: str, month: str, code: str) -> float:
    """Share of the HTS10's imports from the partner entered under USMCA in that month."""
    return float(_usmca().loc[(partner, month, code), "share"])


def in_list(name: str, code: str) -> bool:
    frame = pd.read_csv(bundled.lists_dir() / name, dtype=str, keep_default_na=False)
    return any(code.startswith(prefix) for prefix in frame["hs"])


# ------------------------------------------------------------------------------------------------ cases


@dataclasses.dataclass(frozen=True)
class Case:
    partner: str
    hs: str
    on: str
    expected: float | Callable[[], float]
    why: str
    source: str

    @property
    def id(self) -> str:
        return f"{self.partner}-{self.hs}-{self.on}"

    def value(self) -> float:
        return self.expected() if callable(self.expected) else self.expected


TSHIRT, TOY, MACHINE, CAR, PART = "6109100012", "9503000073", "8477800100", "8703230190", "8708401110"
CRUDE, ART, RETURNED, COFFEE, WATCH = "2709002090", "9701210000", "9801001028", "0901110025", "9102219010"
AL_DERIVATIVE = "8302500000"  # aluminium derivative outside ch. 76 (9903.85.08), on the 12 March 2025 list

CASES = [
    # --- Ukraine, T-shirt: nothing, then the reciprocal 10 % (never an Annex I country), Section 122, nothing
    Case("UKR", TSHIRT, "2025-03-01", 0.0, "no measure covers Ukraine before 5 April 2025", EO14257),
    Case("UKR", TSHIRT, "2025-04-06", 0.10, "EO 14257 sec. 3(a): 10 %", EO14257),
    Case("UKR", TSHIRT, "2025-04-09", 0.10, "Ukraine is not in Annex I: still 10 %", EO14257),
    Case("UKR", TSHIRT, "2025-08-10", 0.10, "Ukraine is not in EO 14326 Annex I: 10 % (9903.01.25)", EO14326),
    Case("UKR", TSHIRT, "2026-03-01", 0.10, "IEEPA ended 24 Feb 2026; Section 122 10 %", S122),
    Case(
        "UKR",
        TSHIRT,
        "2026-08-01",
        0.0,
        "Section 122 lapsed 24 Jul 2026; Ukraine's forced-labour 301 tier is not sourced (documented gap)",
        FORCED_LABOR,
    ),
    # --- China, toys (MFN free, not Section 301 listed in 2024: observed ~0)
    Case("CHN", TOY, "2025-02-10", 0.10, "fentanyl 10 % (EO 14195, from 4 Feb)", EO14195),
    Case("CHN", TOY, "2025-03-10", 0.20, "fentanyl 10 + 10 (EO 14228, from 4 Mar)", EO14228),
    Case("CHN", TOY, "2025-04-06", 0.30, "fentanyl 20 + reciprocal 10", EO14257),
    Case(
        "CHN",
        TOY,
        "2025-04-09",
        1.04,
        "fentanyl 20 + reciprocal 84 (EO 14259 replaced Annex I's 34)",
        EO14259,
    ),
    Case("CHN", TOY, "2025-04-12", 1.45, "fentanyl 20 + reciprocal 125 (EO 14266)", EO14266),
    Case("CHN", TOY, "2025-05-20", 0.30, "fentanyl 20 + reciprocal 10 (EO 14298, Geneva)", EO14298),
    Case("CHN", TOY, "2025-11-15", 0.20, "fentanyl cut to 10 from 10 Nov 2025 + reciprocal 10", CHINA_NOV),
    Case("CHN", TOY, "2026-03-01", 0.10, "IEEPA struck down; Section 122 10 %", SCOTUS),
    Case("CHN", TOY, "2026-08-01", 0.125, "forced-labour Section 301: China 12.5 %", FORCED_LABOR),
    # --- Germany, plastics machinery 8477.80.01 (not on any exemption or 232 list)
    Case("DEU", MACHINE, "2025-04-09", 0.20, "EU Annex I rate 20 % (9 April only)", EO14257),
    Case("DEU", MACHINE, "2025-05-01", 0.10, "Annex I suspended (EO 14266): 10 %", EO14266),
    Case(
        "DEU",
        MACHINE,
        "2025-09-01",
        lambda: 0.15 - observed("DEU", MACHINE),
        "EU all-in floor: 15 % − the pair's 2024 rate (3.7 %)",
        EU_FLOOR,
    ),
    Case("DEU", MACHINE, "2026-03-01", 0.10, "Section 122 10 %", S122),
    Case(
        "DEU",
        MACHINE,
        "2026-08-01",
        lambda: max(0.0, 0.10 - observed("DEU", MACHINE)),
        "forced-labour 301: EU 10 % all-in (9903.05.39)",
        FORCED_LABOR,
    ),
    # --- Japan, car and auto part
    Case("JPN", CAR, "2025-03-01", 0.0, "before Section 232 autos (3 Apr 2025)", AUTOS),
    Case("JPN", CAR, "2025-05-01", 0.25, "Section 232 autos 25 %; out of the reciprocal tariff", AUTOS),
    Case(
        "JPN",
        CAR,
        "2025-10-01",
        lambda: 0.15 - observed("JPN", CAR),
        "Japan autos 15 % all-in from 16 Sep 2025: 15 − 2.5 (MFN)",
        JAPAN_AUTOS,
    ),
    Case(
        "JPN",
        CAR,
        "2026-03-01",
        lambda: 0.15 - observed("JPN", CAR),
        "Japan autos 15 % all-in; Section 122 not on 232 goods (9903.03.06)",
        S122,
    ),
    Case(
        "JPN",
        PART,
        "2025-04-09",
        0.0,
        "auto parts out of the reciprocal tariff from 5 Apr (9903.01.33)",
        AUTO_FAQ,
    ),
    Case("JPN", PART, "2025-05-10", 0.25, "Section 232 auto parts 25 % from 3 May", AUTOS),
    Case(
        "JPN",
        PART,
        "2025-10-01",
        lambda: 0.15 - observed("JPN", PART),
        "Japan parts 15 % all-in",
        JAPAN_AUTOS,
    ),
    Case(
        "KOR",
        CAR,
        "2025-12-01",
        lambda: 0.15 - observed("KOR", CAR),
        "Korea autos 15 % all-in, retroactive to 1 Nov 2025",
        KOREA,
    ),
    # --- Canada: car (EO 14289: autos displace the fentanyl duty), crude (energy 10 %, USMCA shares), lumber
    Case(
        "CAN",
        CAR,
        "2025-05-01",
        lambda: 0.25 * (1 - claimed("CAN", "2025-05", CAR) * (1 - 0.60)),
        "autos 25 %, USMCA-claimed value on its 60 % non-US content (Proc. 10908); no Canada IEEPA (EO 14289)",
        EO14289,
    ),
    Case("CAN", CRUDE, "2025-03-05", 0.10, "energy 10 %; USMCA exemption only from 7 Mar 2025", EO14231),
    Case(
        "CAN",
        CRUDE,
        "2025-09-01",
        lambda: 0.10 * (1 - claimed("CAN", "2025-09", CRUDE)),
        "energy 10 % on the share not claimed under USMCA in September 2025",
        EO14193,
    ),
    Case("CAN", CRUDE, "2026-03-01", 0.0, "energy is on the Section 122 exempt list", S122),
    Case(
        "CAN",
        "4407130000",
        "2025-11-01",
        0.10,
        "softwood lumber 232 10 %; out of the Canada IEEPA duty",
        WOOD,
    ),
    # --- Steel and aluminium
    Case("DEU", "7208510030", "2025-06-10", 0.50, "steel 50 %; EU paid 0 in 2024 (TRQ), so 50 added", P10947),
    Case("GBR", "7208103000", "2025-06-10", 0.25, "UK steel 25 % (Economic Prosperity Deal)", UK_METALS),
    Case("TUR", "7208390090", "2025-04-01", 0.0, "steel 25 % − the 25 % Turkey already paid in 2024", STEEL),
    Case("TUR", "7208390090", "2025-06-10", 0.25, "steel 50 % − 25 % in the 2024 baseline", P10947),
    Case(
        "VNM",
        AL_DERIVATIVE,
        "2025-05-01",
        lambda: 0.25 * metal(AL_DERIVATIVE, "aluminum_share"),
        "aluminium 25 % on the aluminium content; whole article out of the reciprocal tariff (CBP FAQ)",
        CONTENT_FAQ,
    ),
    Case(
        "VNM",
        AL_DERIVATIVE,
        "2025-09-01",
        lambda: (
            0.50 * metal(AL_DERIVATIVE, "aluminum_share")
            + 0.20 * (1 - metal(AL_DERIVATIVE, "aluminum_share"))
        ),
        "aluminium 50 % on content + Vietnam's 20 % on the rest",
        P10947,
    ),
    Case(
        "VNM",
        AL_DERIVATIVE,
        "2026-03-01",
        lambda: (
            0.50 * metal(AL_DERIVATIVE, "aluminum_share")
            + 0.10 * (1 - metal(AL_DERIVATIVE, "aluminum_share"))
        ),
        "aluminium 50 % on content + Section 122 10 % on the rest",
        S122,
    ),
    Case(
        "VNM",
        AL_DERIVATIVE,
        "2026-05-01",
        0.25,
        "annex I-B from 6 Apr 2026: 25 % on full value, no S122",
        P11021,
    ),
    # --- Informational materials, US goods returned
    Case("FRA", ART, "2025-04-09", 0.0, "art (ch. 97) is informational material: no IEEPA duty", INFO),
    Case("FRA", ART, "2025-09-01", 0.0, "no EU floor on art", INFO),
    Case("FRA", ART, "2026-03-01", 0.0, "Section 122 exempts informational materials (9903.03.11)", S122),
    Case("JPN", RETURNED, "2025-04-09", 0.0, "9801 US goods returned: not charged as foreign goods", CH98),
    Case("DEU", RETURNED, "2025-09-01", 0.0, "9801: no EU floor", CH98),
    Case("DEU", RETURNED, "2026-03-01", 0.0, "9801: no Section 122", S122),
    # --- Brazil, India, Switzerland, Korea
    Case("BRA", COFFEE, "2025-09-01", 0.50, "reciprocal 10 + Brazil 40", BRAZIL),
    Case("BRA", COFFEE, "2025-12-01", 0.0, "coffee out of both from 13 Nov 2025", BRAZIL_NOV),
    Case("BRA", "6403999065", "2026-08-01", 0.375, "Section 301 Brazil 25 + forced-labour 12.5", S301_BRAZIL),
    Case("IND", TSHIRT, "2025-08-20", 0.25, "EO 14326 India 25 %", EO14326),
    Case("IND", TSHIRT, "2025-09-01", 0.50, "India 25 + Russian-oil 25 (from 27 Aug)", INDIA),
    Case("IND", TSHIRT, "2026-02-10", 0.25, "oil duty removed 7 Feb 2026; 18 % never implemented", INDIA),
    Case("CHE", WATCH, "2025-09-01", 0.39, "Switzerland 39 % (EO 14326)", EO14326),
    Case(
        "CHE",
        WATCH,
        "2025-12-01",
        lambda: 0.15 - observed("CHE", WATCH),
        "Switzerland 15 % all-in from 14 Nov 2025",
        SWISS,
    ),
    Case("KOR", "3918101040", "2025-09-01", 0.15, "Korea 15 % on top until 13 Nov 2025", EO14326),
    Case(
        "KOR",
        "3918101040",
        "2025-12-01",
        lambda: 0.15 - observed("KOR", "3918101040"),
        "Korea 15 % all-in from 14 Nov 2025",
        KOREA,
    ),
    # --- Section 122 exempt and not, Russia, wood, semiconductors
    Case("IND", "3004200075", "2026-03-01", 0.0, "pharmaceuticals on the Section 122 exempt list", S122),
    Case("RUS", "4412330640", "2025-09-01", 0.0, "Russia is outside every IEEPA measure", EO14257),
    Case("RUS", "4412330640", "2026-03-01", 0.10, "Section 122 makes no country exception", S122),
    Case(
        "CHN",
        "9401614011",
        "2025-12-01",
        0.35,
        "upholstered furniture 232 25 % + China fentanyl 10 % (reciprocal out)",
        WOOD,
    ),
    Case(
        "TWN",
        "8471804000",
        "2026-02-01",
        0.25,
        "advanced semiconductors 232 25 %; out of the reciprocal",
        SEMIS,
    ),
]


@pytest.fixture(scope="module")
def rulebook():
    return load_scenario("us-tariffs")


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline-2024")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_dated_case(case: Case, rulebook, baseline):
    result = explain(rulebook, case.partner, case.hs, as_of=D(case.on), baseline=baseline)
    assert result["added_rate"] == pytest.approx(case.value(), abs=1e-9), case.why


def test_enough_cases_with_sources():
    assert len(CASES) >= 45
    assert all(case.source.startswith("http") for case in CASES)


def components(result) -> dict[str, dict]:
    return {c["measure"]: c for c in result["components"]}


def test_by_name_is_the_same_as_with_the_loaded_rulebook(rulebook, baseline):
    by_name = explain("us-tariffs", "UKR", TSHIRT, as_of=D("2026-03-01"))
    loaded = explain(rulebook, "UKR", TSHIRT, as_of=D("2026-03-01"), baseline=baseline)
    assert by_name["added_rate"] == loaded["added_rate"] == pytest.approx(0.10)


# ------------------------------------------------ the wrong answers of issue 13 item 6, fixed in us-tariffs


def test_japanese_auto_part_is_out_of_the_reciprocal_tariff(rulebook, baseline):
    # CBP auto FAQ: parts of Proclamation 10908 not subject to reciprocal duties from 5 April 2025
    parts = components(explain(rulebook, "JPN", PART, as_of=D("2025-04-09"), baseline=baseline))
    assert not parts["ieepa-reciprocal-annex1"]["applies"]
    assert not parts["ieepa-reciprocal"]["applies"]


def test_canadian_car_pays_the_autos_duty_not_the_fentanyl_duty_on_top(rulebook, baseline):
    # EO 14289 sec. 2 (retroactive to 4 March 2025): an article subject to the autos duty is not also
    # subject to EO 14193. 25 % (the USMCA-claimed value on its non-US content), nothing more.
    parts = components(explain(rulebook, "CAN", CAR, as_of=D("2025-09-01"), baseline=baseline))
    c = claimed("CAN", "2025-09", CAR)
    assert parts["s232-autos"]["contribution"] == pytest.approx(0.25 * (1 - c + 0.60 * c))
    assert not parts["ieepa-fentanyl-canada-35"]["applies"]
    assert "s232-autos" in parts["ieepa-fentanyl-canada-35"]["reason"]


def test_aluminium_derivative_outside_chapter_76_pays_on_its_content(rulebook, baseline):
    share = metal(AL_DERIVATIVE, "aluminum_share")
    parts = components(explain(rulebook, "VNM", AL_DERIVATIVE, as_of=D("2025-09-01"), baseline=baseline))
    aluminium = parts["s232-aluminum-derivatives-content-50"]
    assert aluminium["rate"] == pytest.approx(0.50)
    assert aluminium["contribution"] == pytest.approx(0.50 * share)  # not 0.50 on full value
    assert parts["ieepa-reciprocal-eo14326"]["contribution"] == pytest.approx(0.20 * (1 - share))


@pytest.mark.parametrize("on", ["2025-04-09", "2025-09-01"])
def test_french_art_pays_no_ieepa_duty(rulebook, baseline, on):
    result = explain(rulebook, "FRA", ART, as_of=D(on), baseline=baseline)
    assert result["added_rate"] == 0.0
    assert all(not c["applies"] for c in result["components"] if c["measure"].startswith("ieepa"))


def test_us_goods_returned_pay_no_reciprocal_rate(rulebook, baseline):
    result = explain(rulebook, "JPN", RETURNED, as_of=D("2025-04-09"), baseline=baseline)
    assert result["added_rate"] == 0.0


def test_canadian_crude_shows_the_legal_rate_and_the_claim_share(rulebook, baseline):
    # The legal rate of crude that does not claim USMCA is 10 % (EO 14193 energy); the pair pays it on
    # the share of 2709.00.20.90 from Canada not claimed in the month (bundled claim shares).
    share = claimed("CAN", "2025-09", CRUDE)
    assert 0.0 < share < 1.0
    parts = components(explain(rulebook, "CAN", CRUDE, as_of=D("2025-09-01"), baseline=baseline))
    energy = parts["ieepa-fentanyl-canada-energy"]
    assert energy["rate"] == pytest.approx(0.10)
    assert energy["contribution"] == pytest.approx(0.10 * (1 - share))
    assert not parts["ieepa-fentanyl-canada-35"]["applies"]


def test_canadian_steel_before_june_2025_pays_fentanyl_on_unclaimed_and_232_on_claimed_value(
    rulebook, baseline
):
    # EO 14289 (4 March - 3 June 2025): a good subject to the Canada IEEPA duty is not also subject to
    # Section 232 steel; USMCA-claimed value is not subject to the IEEPA duty, so it pays Section 232.
    code = "7208370060"
    share = claimed("CAN", "2025-05", code)
    result = explain(rulebook, "CAN", code, as_of=D("2025-05-01"), baseline=baseline)
    assert result["added_rate"] == pytest.approx(0.25 * (1 - share) + 0.25 * share)
    after = explain(rulebook, "CAN", code, as_of=D("2025-07-01"), baseline=baseline)  # Proc. 10947 order
    assert after["added_rate"] == pytest.approx(0.50)
    assert not components(after)["ieepa-fentanyl-canada"]["applies"]


# ---------------------------------------------------------------------------- the rulebook's bookkeeping


def own_measures(rulebook):
    return [m for m in rulebook.measures if m.scenario == "us-tariffs"]


def test_every_measure_has_basis_citation_and_a_source(rulebook):
    measures = own_measures(rulebook)
    assert len(measures) >= 40
    for m in measures:
        assert m.basis in BASES and m.basis != "other", m.id
        assert m.citation.strip(), m.id
        assert m.source or m.unsourced, f"{m.id}: no source URL and not marked unsourced"
        assert all(url.startswith(("https://", "http://")) for url in m.source), m.id
        if m.unsourced:
            assert m.note, f"{m.id}: an unsourced measure says why in its note"


def test_ieepa_measures_end_with_the_supreme_court_ruling(rulebook):
    for m in own_measures(rulebook):
        if m.basis != "IEEPA":
            continue
        assert m.expires is not None and m.expires <= D("2026-02-24"), m.id
        if m.status != "announced":
            assert m.status == "struck-down", m.id
            assert "Learning Resources" in m.status_note and "24 February 2026" in m.status_note, m.id


def test_rulebook_is_dated_and_documented(rulebook):
    assert rulebook.dated
    assert rulebook.documented_to == D("2026-12-04")
    assert "baseline-2024" in rulebook.lineage


def test_announced_measures_never_apply(rulebook, baseline):
    # the 15 % Section 122 rate and India's 18 % were announced, never collected
    s122 = components(explain(rulebook, "UKR", TSHIRT, as_of=D("2026-03-01"), baseline=baseline))
    assert not s122["s122-surcharge-15"]["applies"]
    india = components(explain(rulebook, "IND", TSHIRT, as_of=D("2026-02-10"), baseline=baseline))
    assert not india["ieepa-india-18"]["applies"]


def test_test_codes_sit_where_the_cases_assume():
    assert in_list("s122_exempt.csv", "3004200075")
    assert in_list("s122_exempt.csv", CRUDE)
    assert not in_list("s122_exempt.csv", TSHIRT)
    assert in_list("s232_aluminum_derivatives_content.csv", AL_DERIVATIVE)
    assert not in_list("s232_steel_derivatives.csv", AL_DERIVATIVE)
    assert not in_list("floor_exempt_eu.csv", MACHINE)
    assert in_list("fentanyl_energy_canada.csv", CRUDE)


def test_laptops_are_not_auto_parts(rulebook, baseline):
    parts = components(explain(rulebook, "CHE", "8471300100", as_of=D("2025-09-01"), baseline=baseline))
    assert not parts["s232-auto-parts"]["applies"]


# ------------------------------------------------------------- what the engine cannot do yet (strict xfail)


def test_usmca_wording_only_for_canada_and_mexico(rulebook, baseline):
    parts = components(explain(rulebook, "CHN", TOY, as_of=D("2026-08-01"), baseline=baseline))
    assert "USMCA" not in parts["s301-forced-labor"]["reason"]


def test_explain_after_the_documented_date_warns(rulebook, baseline):
    # a date past documented_to runs, with a warning naming the last documented date
    result = explain(rulebook, "CHN", TOY, as_of=D("2027-02-01"), baseline=baseline)
    assert any("2026-12-04" in warning for warning in result.get("warnings", []))


def test_usmca_cars_pay_the_autos_duty_on_non_us_content(rulebook, baseline):
    # Proclamation 10908 (9903.94.02-.03): a USMCA car pays 25 % on its non-US content only, a car not
    # claiming USMCA on its full value. With the Budget Lab's flat US-content assumption for USMCA
    # vehicles (0.40, config/policy_params.yaml): 25 % × (1 − c) + 25 % × (1 − 0.40) × c, c = the code's
    # USMCA claim share that month
    c = claimed("MEX", "2025-09", "8703230190")
    result = explain(rulebook, "MEX", "8703230190", as_of=D("2025-09-01"), baseline=baseline)
    assert result["added_rate"] == pytest.approx(0.25 * (1 - c) + 0.25 * 0.60 * c)


def test_usmca_trucks_pay_the_trucks_duty_on_non_us_content(rulebook, baseline):
    # Proclamation 10984, 9903.74.03: a USMCA-qualifying medium/heavy truck pays 25 % on its non-US
    # content only (junologistics fact sheet); the claimed value pays on 60 % (Budget Lab
    # us_auto_content_share 0.40, which it applies to autos and MHDV alike). Mexican road tractors.
    tractor = "8701210015"
    c = claimed("MEX", "2025-12", tractor)
    parts = components(explain(rulebook, "MEX", tractor, as_of=D("2025-12-15"), baseline=baseline))
    assert parts["s232-trucks"]["contribution"] == pytest.approx(0.25 * (1 - c + 0.60 * c))
    assert "non-US content" in parts["s232-trucks"]["reason"]
