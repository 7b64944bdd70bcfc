"""Number formats follow units, so a rate of 6.45 or 1.50/kWh never displays as a rounded whole number."""

import pytest

from tcomodel.report.styles import number_format


@pytest.mark.parametrize("unit,expected", [
    ("DKK per USD", "0.0000"), ("DKK/USD", "0.0000"), ("DKK/kWh", "#,##0.00"), ("USD/GPU-h", "#,##0.00"),
    ("DKK/Mtok", "#,##0.00"), ("USD/Mtok", "#,##0.00"), ("DKK/month", "#,##0"), ("DKK", "#,##0"), ("USD", "#,##0"),
    ("share", "0.0%"), ("per year", "0.0%"), ("tokens", "#,##0"), ("tok/s per replica", "#,##0.0"),
    ("kW", "#,##0.00"), ("ratio", "#,##0.00"), ("index", "0.0000"), ("replicas", "#,##0"), ("DKK/token", "0.000E+00"),
    ("score 0-100", "0.0"),
])
def test_number_format_for_unit(unit, expected):
    assert number_format(unit, "DKK") == expected
