"""Reading LMArena-format battle files (`model_a, model_b, winner`), with one clear message per bad line."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from annotation.stats.bradley_terry import WINNER_VALUES

REQUIRED_COLUMNS = ("model_a", "model_b", "winner")
# Older LMSYS Chatbot Arena exports spell both_bad "tie (bothbad)": read it as both_bad.
WINNER_ALIASES = {"tie (bothbad)": "both_bad"}
MAX_REPORTED_ERRORS = 20


class BattleFileError(Exception):
    """The file cannot be used; `problems` holds one message per bad line (file:line: column: why)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class BattleColumns:
    model_a: list[str]
    model_b: list[str]
    winner: list[str]


def read_battles_csv(path: Path) -> BattleColumns:
    """Every battle of a CSV file with a header naming model_a, model_b and winner (other columns ignored)."""
    if not path.exists():
        raise BattleFileError([f"{path}: no such file"])
    if path.is_dir():
        raise BattleFileError([f"{path}: is a folder, expected a CSV file"])
    problems: list[str] = []
    columns = BattleColumns([], [], [])
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            reader = csv.reader(stream)
            header = next(reader, None)
            if header is None:
                raise BattleFileError([f"{path}: the file is empty; expected a header line {','.join(REQUIRED_COLUMNS)}"])
            names = [name.strip() for name in header]
            missing = [column for column in REQUIRED_COLUMNS if column not in names]
            if missing:
                raise BattleFileError(
                    [f"{path}:1: header: missing column(s) {', '.join(missing)} (found: {', '.join(names) or 'nothing'}); "
                     f"expected {','.join(REQUIRED_COLUMNS)}"]
                )
            position = {column: names.index(column) for column in REQUIRED_COLUMNS}
            width = max(position.values()) + 1
            for row in reader:
                line = reader.line_num
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) < width:
                    problems.append(f"{path}:{line}: expected at least {width} fields, got {len(row)}")
                    continue
                model_a = row[position["model_a"]].strip()
                model_b = row[position["model_b"]].strip()
                winner = row[position["winner"]].strip()
                winner = WINNER_ALIASES.get(winner, winner)
                if not model_a or not model_b:
                    problems.append(f"{path}:{line}: {'model_a' if not model_a else 'model_b'}: empty model name")
                elif model_a == model_b:
                    problems.append(f"{path}:{line}: model_a and model_b are both {model_a!r}; a battle needs two models")
                elif winner not in WINNER_VALUES:
                    problems.append(f"{path}:{line}: winner: expected one of {', '.join(WINNER_VALUES)}, got {winner!r}")
                else:
                    columns.model_a.append(model_a)
                    columns.model_b.append(model_b)
                    columns.winner.append(winner)
                    continue
                if len(problems) >= MAX_REPORTED_ERRORS:
                    problems.append(f"{path}: stopped after {MAX_REPORTED_ERRORS} bad lines")
                    break
    except UnicodeDecodeError as error:
        raise BattleFileError([f"{path}: not UTF-8 text (byte {error.start}): is it a CSV file?"]) from None
    except csv.Error as error:
        raise BattleFileError([f"{path}: not readable as CSV: {error}"]) from None
    except OSError as error:
        raise BattleFileError([f"{path}: cannot be read: {error.strerror or error}"]) from None
    if problems:
        raise BattleFileError(problems)
    if not columns.winner:
        raise BattleFileError([f"{path}: no battles after the header"])
    return columns
