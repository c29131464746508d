"""Power model checks against published performance data.

Published data: NEEP cold-climate ASHP listing rows [S1] (MUZ-FH09NA, AOU9RLS3, 38GRQB09) as
transcribed in research energy-and-tariffs.md §1.5, shipped in drivers/klima_drivers/profiles.
Worked numbers: research energy-and-tariffs.md §1.6 ("Worked numbers for the FH09" and the
regression check table against FH09, H = 13.5).
"""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from klima.energy.model import (
    CoolingRatings,
    HeatingRatings,
    MissingPerformanceDataError,
    PerformanceProfile,
    estimate_power,
)
from klima.energy.model.envelope import envelope_at
from klima.energy.model.profile import BTUH_PER_WATT
from klima.errors import ConfigError
from klima.state import Action, Mode
from klima_drivers.profiles import list_profiles, load_profile

FH09 = "mitsubishi_msz_fh09na"


def f_to_c(fahrenheit: float) -> float:
    return (fahrenheit - 32.0) / 1.8


def heat_w(profile: PerformanceProfile, outdoor_f: float, load_btuh: float) -> float:
    return estimate_power(
        profile, mode=Mode.HEAT, action=Action.HEATING, outdoor_c=f_to_c(outdoor_f),
        load_btuh=load_btuh,
    )  # fmt: skip


def test_shipped_profiles_are_listed_and_load() -> None:
    assert list_profiles() == ["carrier_40grqb09", "fujitsu_asu9rls3", FH09]
    for name in list_profiles():
        profile = load_profile(name)
        assert profile.name == name
        assert profile.heating_table()
        assert profile.cooling_table()


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown performance profile") as caught:
        load_profile("no_such_unit")
    assert FH09 in str(caught.value)


@pytest.mark.parametrize("name", ["carrier_40grqb09", "fujitsu_asu9rls3", FH09])
def test_model_returns_published_power_at_every_listed_point(name: str) -> None:
    profile = load_profile(name)
    for row in profile.heating_table():
        for point in (row.min, row.rated, row.max):
            if point is None:
                continue
            watts = heat_w(profile, row.outdoor_f, point.capacity_btuh)
            assert watts == pytest.approx(point.input_kw * 1000, rel=1e-9, abs=1e-9)


def test_published_fh09_values_spot_check() -> None:
    # Independent of the data file: the §1.5 FH09 table, 17 °F rated and 5 °F max.
    profile = load_profile(FH09)
    assert heat_w(profile, 17, 6700) == pytest.approx(600)
    assert heat_w(profile, 5, 10900) == pytest.approx(1350)
    assert heat_w(profile, -13, 7300) == pytest.approx(1250)


@pytest.mark.parametrize("name", ["carrier_40grqb09", "fujitsu_asu9rls3", FH09])
def test_listed_cops_agree_with_capacity_over_power(name: str) -> None:
    for row in load_profile(name).heating_table():
        for point in (row.min, row.rated, row.max):
            if point is not None:
                assert point.listed_cop is not None
                assert point.cop == pytest.approx(point.listed_cop, rel=0.02)
                assert 1.0 < point.cop < 6.0


@pytest.mark.parametrize("name", ["carrier_40grqb09", "fujitsu_asu9rls3", FH09])
def test_between_table_temperatures_power_is_monotonic_and_bracketed(name: str) -> None:
    profile = load_profile(name)
    table = profile.heating_table()
    for low, high in itertools.pairwise(table):
        for level in ("min", "max"):
            p_low = getattr(low, level).input_kw * 1000
            p_high = getattr(high, level).input_kw * 1000
            steps = [low.outdoor_f + (high.outdoor_f - low.outdoor_f) * i / 10 for i in range(11)]
            speed = 0.0 if level == "min" else 1.0
            watts = [
                estimate_power(
                    profile, mode=Mode.HEAT, outdoor_c=f_to_c(t),
                    compressor_frequency_hz=10 + 90 * speed, frequency_range_hz=(10, 100),
                )
                for t in steps
            ]  # fmt: skip
            assert watts[0] == pytest.approx(p_low)
            assert watts[-1] == pytest.approx(p_high)
            ordered = watts if p_high >= p_low else watts[::-1]
            assert ordered == sorted(ordered)
            assert all(min(p_low, p_high) - 1e-9 <= w <= max(p_low, p_high) + 1e-9 for w in watts)


@pytest.mark.parametrize("outdoor_f", [-20, -13, 0, 5, 10, 17, 30, 47, 55])
def test_power_rises_with_load_and_cop_is_sane(outdoor_f: float) -> None:
    profile = load_profile(FH09)
    loads = [100 * i for i in range(1, 250)]
    watts = [heat_w(profile, outdoor_f, load) for load in loads]
    assert watts == sorted(watts)
    q_max = envelope_at(profile.heating_table(), outdoor_f).max.capacity_btuh
    for load, w in zip(loads, watts, strict=True):
        cop = min(load, q_max) / BTUH_PER_WATT / w
        assert 0.5 < cop < 5.0  # the FH09 row tops out at COP 4.50 (47 °F rated)


def test_worked_fh09_numbers_from_research() -> None:
    # Research §1.6 "Worked numbers for the FH09, heating, NEEP interpolation": T, load, P (W).
    # The cycling row uses C_d 0.25 and counts no off-cycle power, so both are set to match.
    profile = load_profile(FH09).model_copy(update={"cycling_cd": 0.25, "standby_w": 0.0})
    cases = [(47, 3000, 200), (47, 8000, 523), (30, 5000, 380), (30, 12000, 1100),
             (17, 6000, 537), (5, 9000, 1111), (47, 800, 63)]  # fmt: skip
    for outdoor_f, load, expected_w in cases:
        assert heat_w(profile, outdoor_f, load) == pytest.approx(expected_w, abs=0.5)


def test_cycling_below_minimum_uses_degradation_and_idle_power() -> None:
    profile = load_profile(FH09)  # C_d 0.15, standby 5 W, fan 25 W
    # 47 °F: Q_min 1 600 Btu/h at 110 W. Load 400 → PLR 0.25, PLF 1 - 0.15·0.75 = 0.8875,
    # runtime 0.28169; P = 110·0.28169 + 5·0.71831 = 34.58 W (fan stops while cycled off).
    assert heat_w(profile, 47, 400) == pytest.approx(34.577, abs=1e-3)
    with_fan = estimate_power(
        profile, mode=Mode.HEAT, outdoor_c=f_to_c(47), load_btuh=400,
        fan_runs_while_cycled_off=True,
    )  # fmt: skip
    assert with_fan == pytest.approx(110 * 0.281690 + 30 * 0.718310, abs=1e-3)


def test_capacity_limited_load_draws_maximum_power() -> None:
    profile = load_profile(FH09)
    assert heat_w(profile, 47, 50_000) == pytest.approx(1470)
    load_fraction = estimate_power(profile, mode=Mode.HEAT, outdoor_c=f_to_c(47), load_fraction=2)
    assert load_fraction == pytest.approx(1470)


def test_states_without_compressor() -> None:
    profile = load_profile(FH09)
    kw = {"outdoor_c": 5.0}
    assert estimate_power(profile, mode=Mode.OFF, **kw) == 5.0
    assert estimate_power(profile, mode=Mode.HEAT, action=Action.OFF, **kw) == 5.0
    assert estimate_power(profile, mode=Mode.FAN_ONLY, **kw) == 30.0
    assert estimate_power(profile, mode=Mode.HEAT, action=Action.IDLE, **kw) == 30.0
    assert estimate_power(profile, mode=Mode.COOL, compressor_frequency_hz=0, **kw) == 30.0


def test_defrost_and_preheat_use_the_heating_envelope() -> None:
    profile = load_profile(FH09)
    at_17 = {"mode": Mode.HEAT, "outdoor_c": f_to_c(17)}
    assert estimate_power(profile, action=Action.DEFROSTING, **at_17) == pytest.approx(1440)
    assert estimate_power(profile, action=Action.PREHEATING, **at_17) == pytest.approx(80)


def test_pan_heater_adds_power_only_when_cold() -> None:
    profile = load_profile(FH09).model_copy(update={"pan_heater_w": 130.0})
    assert heat_w(profile, 17, 6700) == pytest.approx(600 + 130)
    assert heat_w(profile, 47, 10900) == pytest.approx(710)


def test_extrapolation_is_limited_then_held() -> None:
    profile = load_profile(FH09)
    # 10 °F past the coldest row (-13 °F) then held: -23 °F and -60 °F give the same power.
    assert heat_w(profile, -23, 50_000) == pytest.approx(heat_w(profile, -60, 50_000))
    assert heat_w(profile, -23, 50_000) < 1250
    assert heat_w(profile, 100, 50_000) == pytest.approx(heat_w(profile, 57, 50_000))


def test_cooling_and_heat_cool_need_the_right_table() -> None:
    profile = load_profile(FH09)
    cooling = estimate_power(profile, mode=Mode.COOL, outdoor_c=35.0)
    # No load given at 95 °F, where the ratings table has no rated point: midway min→max.
    table = {row.outdoor_f: row for row in profile.cooling_table()}
    assert cooling == pytest.approx((table[95].min.input_w + table[95].max.input_w) / 2)
    with pytest.raises(ValueError, match="heat_cool"):
        estimate_power(profile, mode=Mode.HEAT_COOL, outdoor_c=20.0)
    heat_only = profile.model_copy(update={"cooling_ratings": None})
    with pytest.raises(MissingPerformanceDataError):
        estimate_power(heat_only, mode=Mode.HEAT_COOL, action=Action.COOLING, outdoor_c=30.0)


def test_frequency_maps_to_speed_between_min_and_max() -> None:
    profile = load_profile(FH09).model_copy(
        update={"compressor_min_hz": 20.0, "compressor_max_hz": 100.0}
    )
    at_47 = {"mode": Mode.HEAT, "outdoor_c": f_to_c(47)}
    assert estimate_power(profile, compressor_frequency_hz=20, **at_47) == pytest.approx(110)
    assert estimate_power(profile, compressor_frequency_hz=140, **at_47) == pytest.approx(1470)
    # s = 0.5 → Q = 1 600 + 0.5·16 400 = 9 800 Btu/h, between min and rated (10 900):
    # P = 110 + (8 200 / 9 300)·600 = 639.03 W.
    half = estimate_power(profile, compressor_frequency_hz=60, **at_47)
    assert half == pytest.approx(639.032, abs=1e-3)
    with pytest.raises(ValueError, match="at most one"):
        estimate_power(profile, compressor_frequency_hz=60, load_btuh=3, **at_47)
    with pytest.raises(ValueError, match="frequency"):
        estimate_power(load_profile(FH09), compressor_frequency_hz=60, **at_47)


def test_regression_path_matches_research_check_table() -> None:
    # Research §1.6 check against FH09 (H = 13.5, nominal 10 900 Btu/h at 47 °F): r5 0.782,
    # COP_max,47 3.39, COP_min,47 4.62, COP_max,5 2.28, Q_max,47 13 424.
    profile = PerformanceProfile(
        name="fh09_from_ratings",
        heating_ratings=HeatingRatings(nominal_capacity_btuh=10900, hspf2=13.5 * 0.90),
    )
    cold, warm = profile.heating_table()
    assert (cold.outdoor_f, warm.outdoor_f) == (5, 47)
    assert warm.max.capacity_btuh == pytest.approx(13424, abs=0.5)
    assert cold.max.capacity_btuh / warm.max.capacity_btuh == pytest.approx(0.782, abs=5e-4)
    assert warm.max.cop == pytest.approx(3.39, abs=5e-3)
    assert warm.min.cop == pytest.approx(4.62, abs=5e-3)
    assert cold.max.cop == pytest.approx(2.28, abs=5e-3)
    full = estimate_power(profile, mode=Mode.HEAT, outdoor_c=f_to_c(47), load_fraction=1)
    assert full == pytest.approx(13424 / BTUH_PER_WATT / 3.3928, rel=1e-3)


def test_cooling_regression_and_eer_fallback() -> None:
    # Research §1.6: "For the FH09 that is 9 000 / 16 100 = 0.56 kW, COP 4.72"; COP_82 ≈ 1.3·COP_95.
    ratings = CoolingRatings(nominal_capacity_btuh=9000, seer=30.5, eer=16.1)
    profile = PerformanceProfile(name="cool", cooling_ratings=ratings)
    at_82, at_95 = profile.cooling_table()
    assert at_95.max.input_kw == pytest.approx(0.559, abs=1e-3)
    assert at_95.max.cop == pytest.approx(4.72, abs=5e-3)
    assert at_82.max.cop == pytest.approx(1.3 * 4.72, abs=1e-2)
    # Without EER the SEER regression sets COP_max,95 = 0.06635·30.5 + 1.8707 = 3.894.
    no_eer = CoolingRatings(nominal_capacity_btuh=9000, seer2=30.5)
    at_95_regression = PerformanceProfile(name="c", cooling_ratings=no_eer).cooling_table()[1]
    assert at_95_regression.max.cop == pytest.approx(3.894, abs=1e-3)


def test_profile_validation_refuses_bad_data() -> None:
    point = {"capacity_btuh": 1000, "input_kw": 0.1}
    big = {"capacity_btuh": 9000, "input_kw": 0.9}
    with pytest.raises(ValidationError, match="must not fall"):
        PerformanceProfile.model_validate(
            {"name": "x", "heating_points": [{"outdoor_f": 47, "min": big, "max": point}]}
        )
    with pytest.raises(ValidationError, match="listed COP"):
        PerformanceProfile.model_validate(
            {"name": "x", "heating_points": [
                {"outdoor_f": 47, "min": {**point, "listed_cop": 4.5}, "max": big}]}
        )  # fmt: skip
    row = {"outdoor_f": 47, "min": point, "max": big}
    with pytest.raises(ValidationError, match="distinct"):
        PerformanceProfile.model_validate({"name": "x", "heating_points": [row, row]})
    with pytest.raises(ValidationError, match="not both"):
        PerformanceProfile.model_validate(
            {"name": "x", "heating_points": [row],
             "heating_ratings": {"nominal_capacity_btuh": 9000, "hspf": 10}}
        )  # fmt: skip
    with pytest.raises(ValidationError, match="exactly one"):
        HeatingRatings(nominal_capacity_btuh=9000, hspf=10, hspf2=9)
    with pytest.raises(ValidationError, match="extra"):
        PerformanceProfile.model_validate({"name": "x", "standby_watts": 3})


def test_envelope_is_continuous_where_the_rated_point_ends() -> None:
    # NEEP lists a rated point at 17 °F but not at 5 °F; just below 17 °F the model must not jump.
    profile = load_profile(FH09)
    table = profile.heating_table()
    just_below = envelope_at(table, 17 - 1e-6)
    assert just_below.rated is not None
    assert just_below.rated.capacity_btuh == pytest.approx(6700, abs=1e-3)
    assert just_below.rated.input_w == pytest.approx(600, abs=1e-3)
    for load in (1000, 4000, 6700, 9000, 12000):
        assert heat_w(profile, 17 - 1e-6, load) == pytest.approx(
            heat_w(profile, 17, load), abs=1e-2
        )
    # At 5 °F and colder there is no rated point: power is linear from min to max.
    at_5 = envelope_at(table, 5)
    assert at_5.rated is None
    mid = (640 + 10900) / 2
    assert heat_w(profile, 5, mid) == pytest.approx((60 + 1350) / 2)
