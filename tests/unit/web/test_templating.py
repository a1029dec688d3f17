"""The templates' shared settings: amounts written the Vietnamese way, values escaped,
undefined names refused."""

from __future__ import annotations

import re

import jinja2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from settlement.templating import environment, vnd

NBSP = "\u00a0"
VND = re.compile(r"-?\d{1,3}(\.\d{3})*\u00a0₫")


def test_two_hundred_thousand_dong() -> None:
    assert vnd(200_000) == f"200.000{NBSP}₫"
    assert vnd(0) == f"0{NBSP}₫"
    assert vnd(999) == f"999{NBSP}₫"
    assert vnd(1_000) == f"1.000{NBSP}₫"
    assert vnd(-1_234_567) == f"-1.234.567{NBSP}₫"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_every_amount_reads_back_exactly(amount_vnd: int) -> None:
    text = vnd(amount_vnd)
    assert VND.fullmatch(text), text
    assert int(text.removesuffix(f"{NBSP}₫").replace(".", "")) == amount_vnd


@given(st.integers(min_value=0, max_value=10**15))
def test_groups_of_three_from_the_right(amount_vnd: int) -> None:
    whole = vnd(amount_vnd).removesuffix(f"{NBSP}₫")
    head, *groups = whole.split(".")
    assert 1 <= len(head) <= 3
    assert not head.startswith("0") or amount_vnd == 0
    assert all(len(g) == 3 for g in groups)


def test_templates_escape_values_and_refuse_undefined_names() -> None:
    env = environment(jinja2.DictLoader({"t": "{{ name }} pays {{ amount | vnd }}"}))
    assert env.get_template("t").render(name="<b>A</b>", amount=200_000) == f"&lt;b&gt;A&lt;/b&gt; pays 200.000{NBSP}₫"
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("t").render(amount=1)
