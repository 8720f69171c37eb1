"""Grading a class (`vmcheck grade`, docs/grading.md).

    roster.py     the roster TOML: submissions (a tree, or a git repository
                  or bundle at a commit), selection, points
    checkout.py   a submission's tree into the work folder (source untouched)
    build.py      building it: its adapter, or the compiler's lines
    scheduler.py  the job pool shared by all submissions; saving each as it ends
    store.py      the class folder: settings, atomic per-submission results
    grading.py    one `grade` run: what to grade, what is already graded
    merge.py      `grade --merge`: shard jobs' class folders into one
    progress.py   the live progress line, or plain lines
What a graded submission is (SubmissionResult, read by the class
report) is results/grade.py; the class report is reports/class_view.py;
the command line harness/cli/grade.py.
"""
