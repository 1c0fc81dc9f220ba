"""``hetu detect``: the self-check (自查) — candidate patches from two of the office's images.

Registered on the ``hetu`` group by :mod:`geo.cli.main`.
"""

from __future__ import annotations

from pathlib import Path

import click

from geo.cli.common import ledger_arg, open_from_cli, progress_bar
from geo.labels import CHANGE_KINDS, SELF_CHECK

__all__ = ["COMMANDS"]


@click.command()
@ledger_arg
@click.option("--before", type=click.Path(dir_okay=False), help="The earlier scene.")
@click.option("--after", type=click.Path(dir_okay=False), help="The later scene.")
@click.option("--bands", help="Band roles when the files do not name them: red=1,green=2,...")
@click.option("--buffer", "buffer_m", type=float, default=50.0, show_default=True,
              help="Look this far outside the management ranges too (m).")  # fmt: skip
@click.option("--min-area", "min_area", type=float, default=100.0, show_default=True,
              help="Smallest change kept (m²).")  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the candidates (GeoPackage, layer 'candidates') and their chips "
              "beside it (<name>_chips/).")  # fmt: skip
@click.option("--apply", "apply_", is_flag=True, help="Add the new candidates to the ledger.")
@click.option("--apply-file", type=click.Path(dir_okay=False),
              help="Add the kept rows of a reviewed candidates file instead.")  # fmt: skip
@click.option("--batch", "batch_id", help="The 自查 batch id (default 自查-<after date>).")
@click.option("--actor", default=SELF_CHECK["source"], show_default=True,
              help="Who issues them (recorded on each event).")  # fmt: skip
@click.pass_context
def detect(
    ctx: click.Context, ledger: str, before: str | None, after: str | None, bands: str | None,
    buffer_m: float, min_area: float, output: str | None, apply_: bool, apply_file: str | None,
    batch_id: str | None, actor: str,
) -> None:  # fmt: skip
    """Find suspect changes inside the management ranges between two scenes (自查).

    Writes candidates with -o (open them in QGIS, or `hetu map --candidates`); with
    --apply the new ones become patches of a 自查 batch, through the usual lifecycle.
    A reviewed file (keep = 0 for those to leave out, or rows deleted) is added later
    with `hetu detect LEDGER --apply-file candidates.gpkg --batch ID`.
    """
    from geo.clock import now
    from geo.imagery.candidates import (
        apply_candidates,
        candidate_chips,
        read_candidates,
        write_candidates,
    )
    from geo.imagery.detect import detect_changes, parse_bands, summary

    if apply_file:
        frame = read_candidates(apply_file)
        batch = batch_id or f"{SELF_CHECK['source']}-{now().date().isoformat()}"
        with open_from_cli(ctx, ledger) as led:
            rec = apply_candidates(led, frame, batch_id=batch, actor=actor,
                                   source=Path(apply_file).name)  # fmt: skip
        click.echo(f"{rec.n_kept} patch(es) added to batch {batch} ({SELF_CHECK['source']})")
        return
    if not before or not after:
        raise click.UsageError("give --before and --after (or --apply-file)")
    roles = parse_bands(bands)
    with open_from_cli(ctx, ledger) as led:
        state = led.status_frame()[["patch_id", "geometry"]]
        with progress_bar("自查", unit="窗") as tick:
            frame = detect_changes(
                before, after, led.segments(), bands=roles, buffer_m=buffer_m,
                min_area_m2=min_area, patches=state, chiefs=led.chiefs(), progress=tick,
            )  # fmt: skip
        if output:
            out = Path(output)
            frame = candidate_chips(frame, before=before, after=after, bands=roles,
                                    out_dir=out.parent / f"{out.stem}_chips")  # fmt: skip
            write_candidates(frame, out)
        for r in frame.itertuples(index=False):
            where = r.linked_patch or r.segment_name or r.segment_id or "-"
            click.echo(f"{r.candidate_id} {CHANGE_KINDS.get(r.kind, r.kind)} "
                       f"{r.area_m2:.0f} m² {r.score:.1f} {r.status} {where}")  # fmt: skip
        s = summary(frame)
        click.echo(f"{s['candidates']} candidate(s): {s['new']} {SELF_CHECK['new']}, "
                   f"{s['linked']} {SELF_CHECK['linked']}; {SELF_CHECK['unobserved']} "
                   f"{s['unobserved_m2'] or 0:.0f} m²")  # fmt: skip
        if output:
            click.echo(f"candidates: {Path(output).resolve()}")
        if apply_:
            day = frame.attrs["hetu"].get("after_on") or now().date().isoformat()
            batch = batch_id or f"{SELF_CHECK['source']}-{day}"
            rec = apply_candidates(led, frame, batch_id=batch, actor=actor,
                                   source=Path(after).name)  # fmt: skip
            click.echo(f"{rec.n_kept} patch(es) added to batch {batch} ({SELF_CHECK['source']})")


COMMANDS = [detect]
