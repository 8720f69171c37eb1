"""The frame check: when most present pages of one process have an SPT
frame other than their PTE's, one line that says how, and whose frames
the SPT holds.

Both sides come from one struct thread at one stop (its pml4 for the page
walk, its SPT for the frames), through one KERN_BASE for every process,
so a misread would shift every process alike; what tells the cases apart
is where the SPT's frames are: mapped by another process at the same
addresses (the struct pages hold that process's frames), or pointing back
at other pages (frames the kernel gave away without clearing the old
pointer), or nowhere.
"""

from __future__ import annotations

from typing import Optional


def frame_check(pid: int, where: str, walks: dict, spt: dict, elsewhere: dict) -> Optional[str]:
    """The line for process PID at WHERE, or None when most of its present
    pages agree. WALKS: pid -> page tables of every process at this stop;
    SPT: va -> SptPage of PID; ELSEWHERE: va -> physical frame of the pages
    whose frame pointer leads to a frame another page holds now."""
    walk = walks.get(pid)
    if walk is None:
        return None
    pairs, lookup, user = [], walk.lookup, walk.user_pages
    for va, page in spt.items():
        mapping = user.get(va)             # the user page at va: most SPT pages
        if mapping is None:
            mapping = lookup(va)           # a large page covering va, a kernel page, none
        if mapping is not None:            # it covers va: translate(va) without the check
            pairs.append((va, mapping.phys + va - mapping.va, elsewhere.get(va, page.frame_pa)))
    wrong = [(va, pte, mine) for va, pte, mine in pairs if mine is not None and mine != pte]
    if not wrong or len(wrong) * 2 <= len(pairs):
        return None
    shifts = {mine - pte for _, pte, mine in wrong}
    how = (f"always by {next(iter(shifts)):+#x}" if len(shifts) == 1 else
           f"by {len(shifts)} different amounts")
    mapped = {}
    for other, tables in walks.items():
        if other != pid:
            mapped.update({(phys, va): other for va, phys, _ in tables.iter_user_4k()})
    owners = {mapped[(mine, va)] for va, _, mine in wrong if (mine, va) in mapped}
    whose = (f"those are the frames pid {', '.join(map(str, sorted(owners)))} maps at the "
             "same addresses" if owners else "no other process maps those frames there")
    back = sum(va in elsewhere for va, _, _ in wrong)
    stale = f"; {back} of those frames point back to another page" if back else ""
    return (f"pid {pid} at {where}: the SPT's frame differs from the PTE's on "
            f"{len(wrong)}/{len(pairs)} present pages, {how}; {whose}{stale}")
