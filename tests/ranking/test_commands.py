"""manage.py rank_battles: the LMArena battle format in, ratings out; bad files get a line-precise message."""

from __future__ import annotations

import json
import math
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command


def run(*args: str) -> str:
    out = StringIO()
    call_command("rank_battles", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_ratings_table_and_json(tmp_path: Path) -> None:
    path = tmp_path / "battles.csv"
    # A beats B 3 times of 4 (ties none): 400 log10(3) apart; C only ties.
    path.write_text("model_a,model_b,winner,extra\nA,B,model_a,x\nB,A,model_b,x\nA,B,model_a,x\nA,B,model_b,x\n")
    body = json.loads(run(str(path), "--bootstrap", "0", "--json"))
    ratings = {row["model"]: row for row in body["ratings"]}
    assert body["battles"] == 4 and body["connected"] is True
    assert ratings["A"]["rating"] - ratings["B"]["rating"] == pytest.approx(400 * math.log10(3), abs=0.02)
    assert ratings["A"]["battles"] == 4 and ratings["A"]["rank_ub"] == 1
    table = run(str(path), "--bootstrap", "100")
    assert "rank (UB)" in table and "4 battles, 2 models" in table and "bootstrap (100 rounds)" in table


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("a,b,c\n1,2,3\n", "header: missing column(s) model_a, model_b, winner"),
        ("model_a,model_b,winner\nA,B,draw\n", ":2: winner: expected one of model_a, model_b, tie, both_bad, got 'draw'"),
        ("model_a,model_b,winner\nA,B,tie\nA,A,tie\n", ":3: model_a and model_b are both 'A'"),
        ("model_a,model_b,winner\nA,,tie\n", ":2: model_b: empty model name"),
        ("model_a,model_b,winner\n", "no battles after the header"),
    ],
)
def test_bad_files_name_the_line_and_the_problem(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CommandError) as error:
        run(str(path))
    assert message in str(error.value)


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such file"):
        run(str(tmp_path / "nothing.csv"))
    binary = tmp_path / "video.csv"
    binary.write_bytes(b"\x00\xff\xfe\x9c" * 20)
    with pytest.raises(CommandError, match="not UTF-8 text"):
        run(str(binary))


def test_bad_options_and_unreadable_files_get_a_message_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "battles.csv"
    path.write_text("model_a,model_b,winner\nA,B,model_a\nB,A,tie\n")
    with pytest.raises(CommandError, match="--seed: expected a whole number >= 0, got -1"):
        run(str(path), "--seed", "-1")
    with pytest.raises(CommandError, match="--bootstrap: expected a number of rounds >= 0"):
        run(str(path), "--bootstrap", "-5")
    with pytest.raises(CommandError, match="--confidence: expected a share between 0 and 1"):
        run(str(path), "--confidence", "nan")
    with pytest.raises(CommandError, match="is a folder"):
        run(str(tmp_path))

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(CommandError, match="cannot be read: Permission denied"):
        run(str(path))


def test_the_older_lmsys_spelling_of_both_bad_is_read(tmp_path: Path) -> None:
    old = tmp_path / "old.csv"
    old.write_text("model_a,model_b,winner\nA,B,model_a\nA,B,tie (bothbad)\nB,A,tie\n")
    new = tmp_path / "new.csv"
    new.write_text("model_a,model_b,winner\nA,B,model_a\nA,B,both_bad\nB,A,tie\n")
    assert run(str(old), "--bootstrap", "0", "--json") == run(str(new), "--bootstrap", "0", "--json")
