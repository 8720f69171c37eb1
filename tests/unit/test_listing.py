"""`vmcheck list --kernel K` names the scenarios K would not judge."""

from harness.cli.main import main
from tests.unit.fake_pintos_tree import fake_pintos_tree


def test_list_names_what_a_pintos_kernel_would_not_judge(tmp_path, capsys):
    tree = fake_pintos_tree(tmp_path / "tree")
    assert main(["list", "injection", "--kernel", f"pintos-kaist:{tree}"]) == 0
    lines = capsys.readouterr().out.splitlines()
    marked = sorted(line.split()[0] for line in lines if "[NOT_JUDGED on pintos-kaist:" in line)
    assert marked == ["evict-anon-rerr", "evict-anon-werr", "novictim-count", "novictim-evicting",
                      "novictim-giveup", "novictim-hand", "novictim-pinned", "novictim-transit",
                      "novictim-wait", "one-frame-wait", "one-frame-werr", "stack-grow-allocfail"]
    werr = next(line for line in lines if line.startswith("evict-anon-werr"))
    assert "io_error at swap_out" in werr
    wait = next(line for line in lines if line.startswith("novictim-wait"))
    assert "steal at frame_alloc" in wait and "no request block" in wait


def test_list_without_a_kernel_marks_nothing(capsys):
    assert main(["list", "injection"]) == 0
    assert "NOT_JUDGED" not in capsys.readouterr().out
