import pytest

from sim.scenario import calendar


def test_month_one_is_the_start():
    assert calendar.month_of("2015-12", "2015-12") == 1
    assert calendar.date_of(1, "2015-12") == "2015-12"


def test_dates_cross_years_both_ways():
    assert calendar.month_of("2018-05", "2015-12") == 30
    assert calendar.date_of(30, "2015-12") == "2018-05"
    assert calendar.date_of(0, "2015-12") == "2015-11"
    assert calendar.date_of(121, "2015-12") == "2025-12"
    for m in range(0, 400, 7):
        assert calendar.month_of(calendar.date_of(m, "2015-12"), "2015-12") == m


def test_dates_list_covers_month_zero_to_horizon():
    d = calendar.dates(3, "2015-11")
    assert d == ["2015-10", "2015-11", "2015-12", "2016-01"]


@pytest.mark.parametrize("bad", ["2015-13", "2015-1", "15-12", "2015/12", "", "2015-00"])
def test_bad_dates_are_refused(bad):
    with pytest.raises(ValueError):
        calendar.parse(bad)
