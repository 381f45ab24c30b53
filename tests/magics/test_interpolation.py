"""`%%oai_run`'s placeholder filling: only a placeholder naming a notebook variable is filled;
whatever else a prompt holds (JSON, dicts, sets, LaTeX) is sent as typed."""

from __future__ import annotations

import datetime

import pytest

from oairun_jupyter.magics import InterpolationError, interpolate

NAMESPACE = {"city": "Paris", "d": {"a": 1, 0: "zero"}, "n": 1234567, "x": 2.5, "cities": ["Oslo", "Rome"],
             "when": datetime.date(2026, 1, 2), "a": 1, "b": 2, "w": 6, "p": 2}


@pytest.mark.parametrize("typed, sent", [
    ("What should I wear in {city}?", "What should I wear in Paris?"),
    ('get_weather {"city": "{city}"}', 'get_weather {"city": "Paris"}'),
    ("{d[a]} {d['a']} {d[0]} {cities[1]} {city[0]} {when.year}", "1 1 zero Rome P 2026"),
    ("{x:.2f} {n:,} {city!r} {city:>7}| {when:%Y-%m-%d}", "2.50 1,234,567 'Paris'   Paris| 2026-01-02"),
    ("report_{city}.csv", "report_Paris.csv"),
    ("{{city}} is the placeholder", "{city} is the placeholder"),
    # left as typed: JSON, dicts, sets, empty and positional braces, keywords, LaTeX
    ('{"a": {"b": [1, {"c": null}]}}', None),
    ("{a: 1, b: 2} {a, b} {city: 'x'} {a: 1}", None),
    ("{} {0} {1.5} {if} {None} {{ and }} }{", None),
    (r"$\frac{a}{b}$, $\mathbf{x}$, $x^{n}$, $x_{a}$, $\alpha_{b}$, \begin{align} x \end{align}", None),
    ("{{city} and {city}}", "{Paris and Paris}"),
    ("{x:{w}} {x:{w}.{p}f}|", "{x:{w}} {x:{w}.{p}f}|".format(x=2.5, w=6, p=2)),  # nested specs, as str.format
    ("echo ${HOME} ${city} `${a}`", None),  # a shell's or a template's, not ours
])
def test_what_is_filled_and_what_is_sent_as_typed(typed, sent):
    assert interpolate(typed, NAMESPACE) == (typed if sent is None else sent)


@pytest.mark.parametrize("typed, named", [
    ("Hello {nobody}", "the cell uses {nobody} but no variable 'nobody' is defined"),
    ("{d[missing]}", "could not fill {d[missing]} (KeyError: 'missing')"),
    ("{cities[9]}", "could not fill {cities[9]} (IndexError"),
    ("{city.nope}", "could not fill {city.nope} (AttributeError"),
    ("{x:bad}", "could not fill {x:bad} (ValueError"),
    ("{nobody.attr}", "no variable 'nobody' is defined"),
    ("{x:{nobody}}", "could not fill {x:{nobody}} (KeyError: 'nobody')"),
])
def test_a_placeholder_that_cannot_be_filled_is_one_error_naming_it(typed, named):
    with pytest.raises(InterpolationError) as raised:
        interpolate(typed, NAMESPACE)
    message = str(raised.value)
    assert named in message and "--raw" in message and "\n" not in message


def test_a_value_whose_format_raises_is_an_error_not_a_crash():
    class Hostile:
        def __format__(self, spec):
            raise RuntimeError("no")
    with pytest.raises(InterpolationError, match=r"could not fill \{h\} \(RuntimeError: no\)"):
        interpolate("{h}", {"h": Hostile()})


def test_a_long_prompt_full_of_latex_keeps_it_and_fills_its_placeholder():
    typed = r"\frac{1}{2} " * 20_000 + "{city}"
    assert interpolate(typed, NAMESPACE).endswith("Paris")
