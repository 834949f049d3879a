import type { Phase } from '../catalog/types.js';
import type { JudgeInput } from '../checks/types.js';
import type { Gap, RunOptions } from '../run/types.js';
import type { Sample } from '../sample/series.js';
import { summarizeAnchor, type AnchorSummary } from './anchors.js';
import type {
  AnchorRecord,
  EndRecord,
  EvidenceRecord,
  ExecRecord,
  RunRecord,
  SegmentRecord,
} from './records.js';

/**
 * The run as its evidence chain tells it, built record by record. The runner feeds it every
 * record it appends; verify-report feeds it the archived chain: both build a judge's input with
 * {@link EvidenceView.input}, so a verifier sees exactly what the judge saw during the run.
 */
export class EvidenceView {
  run: RunRecord | undefined;
  readonly samples: Sample[] = [];
  readonly anchors: AnchorSummary[] = [];
  readonly anchorRecords: AnchorRecord[] = [];
  readonly gaps: Gap[] = [];
  readonly execs: ExecRecord[] = [];
  readonly segments: SegmentRecord[] = [];
  end: EndRecord | undefined;

  observe(r: EvidenceRecord): void {
    switch (r.k) {
      case 'run':
        this.run = r;
        break;
      case 'segment':
        this.segments.push(r);
        break;
      case 'sample':
        this.samples.push(r.s);
        break;
      case 'exec':
        this.execs.push(r);
        break;
      case 'gap':
        this.gaps.push(r.gap);
        break;
      case 'anchor':
        this.anchorRecords.push(r);
        this.anchors.push(summarizeAnchor(r));
        break;
      case 'end':
        this.end = r;
        break;
    }
  }

  /** The judge input of an execution recorded next (copies: later records do not leak in). */
  input(raw: unknown, options: RunOptions, phase: Phase, agentLog?: Buffer): JudgeInput {
    return {
      raw,
      options,
      phase,
      samples: [...this.samples],
      anchors: [...this.anchors],
      gaps: [...this.gaps],
      ...(agentLog === undefined ? {} : { agentLog }),
    };
  }
}
