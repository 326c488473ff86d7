/**
 * Computes the configuration (and progress map) that results from a
 * {@link ConfChange} (etcd's confchange.Changer). Pure: it works on copies
 * (existing Progress objects are shared, never mutated here; the caller sets
 * `isLearner` from the resulting config when it switches to it).
 *
 * - Single-server change (thesis §4.1): at most one voter added or removed.
 * - Joint consensus (thesis §4.3): C_old becomes the outgoing half, the
 *   changes apply to the incoming half; leaving drops the outgoing half.
 */
import { InvalidConfChangeError } from './errors';
import { Progress } from './progress';
import { cloneConfig, emptyConfig, type TrackerConfig } from './tracker';
import type { ConfChange, ConfChangeSingle, ConfState, NodeId } from './types';

export interface ChangeResult {
  config: TrackerConfig;
  progress: Map<NodeId, Progress>;
}

/** True when `cc` leaves a joint configuration (no changes, auto transition). */
export function isLeaveJoint(cc: ConfChange): boolean {
  return cc.changes.length === 0 && (cc.transition ?? 'auto') === 'auto';
}

/** Whether `cc` enters a joint configuration, and if so whether it leaves automatically. */
export function enterJoint(cc: ConfChange): { joint: boolean; autoLeave: boolean } {
  const t = cc.transition ?? 'auto';
  if (t !== 'auto' || cc.changes.length > 1) return { joint: true, autoLeave: t !== 'joint-explicit' };
  return { joint: false, autoLeave: false };
}

export class ConfChanger {
  constructor(
    private readonly config: TrackerConfig,
    private readonly progress: ReadonlyMap<NodeId, Progress>,
    private readonly lastIndex: number,
    private readonly maxInflight: number,
    private readonly maxInflightBytes: number,
  ) {}

  /** Applies `cc` the way its transition asks. Throws {@link InvalidConfChangeError}. */
  change(cc: ConfChange): ChangeResult {
    if (isLeaveJoint(cc)) return this.leaveJoint();
    const j = enterJoint(cc);
    return j.joint ? this.enterJoint(j.autoLeave, cc.changes) : this.simple(cc.changes);
  }

  enterJoint(autoLeave: boolean, changes: readonly ConfChangeSingle[]): ChangeResult {
    const r = this.copy();
    if (r.config.outgoing.size > 0) throw new InvalidConfChangeError('config is already joint');
    if (r.config.incoming.size === 0) throw new InvalidConfChangeError("can't make a zero-voter config joint");
    r.config.outgoing = new Set(r.config.incoming);
    this.apply(r, changes);
    r.config.autoLeave = autoLeave;
    return r;
  }

  leaveJoint(): ChangeResult {
    const r = this.copy();
    if (r.config.outgoing.size === 0) throw new InvalidConfChangeError("can't leave a non-joint config");
    for (const id of r.config.learnersNext) {
      r.config.learners.add(id);
    }
    r.config.learnersNext.clear();
    for (const id of r.config.outgoing) {
      if (!r.config.incoming.has(id) && !r.config.learners.has(id)) r.progress.delete(id);
    }
    r.config.outgoing.clear();
    r.config.autoLeave = false;
    return r;
  }

  simple(changes: readonly ConfChangeSingle[]): ChangeResult {
    const r = this.copy();
    if (r.config.outgoing.size > 0) throw new InvalidConfChangeError("can't apply a simple config change in a joint config");
    this.apply(r, changes);
    let diff = 0;
    for (const id of r.config.incoming) if (!this.config.incoming.has(id)) diff++;
    for (const id of this.config.incoming) if (!r.config.incoming.has(id)) diff++;
    if (diff > 1) throw new InvalidConfChangeError(`more than one voter changed without entering joint config (${diff} changed)`);
    return r;
  }

  private copy(): ChangeResult {
    const progress = new Map<NodeId, Progress>();
    for (const [id, pr] of this.progress) progress.set(id, pr);
    return { config: cloneConfig(this.config), progress };
  }

  private apply(r: ChangeResult, changes: readonly ConfChangeSingle[]): void {
    for (const c of changes) {
      if (c.nodeId === '') throw new InvalidConfChangeError('conf change nodeId: must be non-empty (got "")');
      if (c.type === 'add-voter') this.makeVoter(r, c.nodeId);
      else if (c.type === 'add-learner') this.makeLearner(r, c.nodeId);
      else if (c.type === 'remove-node') this.remove(r, c.nodeId);
      else throw new InvalidConfChangeError(`conf change type: unknown (got ${JSON.stringify((c as { type: unknown }).type)})`);
    }
    if (r.config.incoming.size === 0) throw new InvalidConfChangeError('removed all voters');
  }

  private init(r: ChangeResult, id: NodeId, isLearner: boolean): void {
    const pr = new Progress(0, Math.max(this.lastIndex, 1), this.maxInflight, this.maxInflightBytes, isLearner);
    // A new peer counts as active so check-quorum does not step the leader
    // down before it had a chance to answer.
    pr.recentActive = true;
    r.progress.set(id, pr);
  }

  private makeVoter(r: ChangeResult, id: NodeId): void {
    if (!r.progress.has(id)) this.init(r, id, false);
    r.config.learners.delete(id);
    r.config.learnersNext.delete(id);
    r.config.incoming.add(id);
  }

  private makeLearner(r: ChangeResult, id: NodeId): void {
    const pr = r.progress.get(id);
    if (!pr) {
      this.init(r, id, true);
      r.config.learners.add(id);
      return;
    }
    if (r.config.learners.has(id)) return;
    r.config.incoming.delete(id);
    r.config.learners.delete(id);
    r.config.learnersNext.delete(id);
    if (r.config.outgoing.has(id)) {
      // Still a voter of C_old: becomes a learner once the joint config is left.
      r.config.learnersNext.add(id);
    } else {
      r.config.learners.add(id);
    }
  }

  private remove(r: ChangeResult, id: NodeId): void {
    if (!r.progress.has(id)) return;
    r.config.incoming.delete(id);
    r.config.learners.delete(id);
    r.config.learnersNext.delete(id);
    if (!r.config.outgoing.has(id)) r.progress.delete(id);
  }
}

/** Builds the configuration described by a {@link ConfState} (on restart or snapshot restore). */
export function configFromConfState(cs: ConfState): TrackerConfig {
  const c = emptyConfig();
  for (const id of cs.voters) c.incoming.add(id);
  for (const id of cs.votersOutgoing) c.outgoing.add(id);
  for (const id of cs.learners) c.learners.add(id);
  for (const id of cs.learnersNext) c.learnersNext.add(id);
  c.autoLeave = cs.autoLeave;
  return c;
}
