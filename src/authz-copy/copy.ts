// Copying the whole authorization graph between backends (DESIGN §14, ADR 0018): every edge,
// grants, memberships and agent-key `worker` edges included, idempotently, page by page and
// resumable; a diff to verify; and the catch-up that replays the switch window's changes.

import { authzSchema, type Relationship, typesWithRelations } from "../authz/model.ts";
import { edgeKey } from "../authz/spicedb/relationships.ts";
import type { GraphStore, Mark } from "./stores.ts";

/** Every type that can be an edge's resource, in the schema's order. */
export const copiedTypes = Object.keys(authzSchema).filter((type) => typesWithRelations.has(type));

/** Where a copy stopped: the type it was on and the cursor of its next page. */
export interface CopyPosition {
  type: string;
  cursor: string | null;
}

/** Positions and marks travel as one opaque word on a command line. */
const encode = (value: unknown) =>
  btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
const decode = (text: string): unknown => JSON.parse(atob(text.replaceAll("-", "+").replaceAll("_", "/")));

export const encodePosition = (position: CopyPosition) => encode(position);

export function decodePosition(text: string): CopyPosition {
  const position = decode(text) as Partial<CopyPosition>;
  if (typeof position.type !== "string" || !copiedTypes.includes(position.type)) {
    throw new Error("not a position this tool reported");
  }
  return { type: position.type, cursor: typeof position.cursor === "string" ? position.cursor : null };
}

export const encodeMark = (mark: Mark) => encode(mark);

export function decodeMark(text: string): Mark {
  const mark = decode(text) as Partial<Mark>;
  if (typeof mark.token !== "string" || typeof mark.at !== "string" || Number.isNaN(Date.parse(mark.at))) {
    throw new Error("not a mark this tool reported");
  }
  return { token: mark.token, at: mark.at };
}

export interface CopyOptions {
  /** Start here (a position an earlier run reported): the types before it are done. */
  resume?: CopyPosition | undefined;
  /** After each page: where to resume (null when done) and how many edges so far. */
  onPage?: (next: CopyPosition | null, copied: number) => void;
}

/**
 * Writes every edge of `from` into `to`, one page at a time (TOUCH / ON CONFLICT DO NOTHING, so
 * it can be re-run and resumed anywhere). Never deletes: see `syncGraph` and `catchUp`.
 */
export async function copyGraph(from: GraphStore, to: GraphStore, options: CopyOptions = {}) {
  let copied = 0;
  const start = options.resume ? copiedTypes.indexOf(options.resume.type) : 0;
  for (let index = start; index < copiedTypes.length; index++) {
    const type = copiedTypes[index] as string;
    let cursor = index === start ? (options.resume?.cursor ?? null) : null;
    do {
      const page = await from.readPage(type, cursor);
      await to.add(page.edges);
      copied += page.edges.length;
      cursor = page.next;
      const following = copiedTypes[index + 1];
      const next = cursor ? { type, cursor } : following ? { type: following, cursor: null } : null;
      options.onPage?.(next, copied);
    } while (cursor);
  }
  return { copied };
}

/** Every edge of one type, by key (one type at a time is held in memory). */
async function readType(store: GraphStore, type: string, mark?: Mark): Promise<Map<string, Relationship>> {
  const edges = new Map<string, Relationship>();
  let cursor: string | null = null;
  do {
    const page = await store.readPage(type, cursor, mark);
    for (const edge of page.edges) edges.set(edgeKey(edge), edge);
    cursor = page.next;
  } while (cursor);
  return edges;
}

const missingFrom = (edges: Map<string, Relationship>, other: Map<string, Relationship>) =>
  [...edges].filter(([key]) => !other.has(key)).map(([, edge]) => edge);

export interface TypeDiff {
  type: string;
  onlyInSource: Relationship[];
  onlyInTarget: Relationship[];
}

/** What differs between the stores, per type: edges present in one and not the other. */
export async function diffGraph(from: GraphStore, to: GraphStore): Promise<TypeDiff[]> {
  const diffs: TypeDiff[] = [];
  for (const type of copiedTypes) {
    const source = await readType(from, type);
    const target = await readType(to, type);
    diffs.push({
      type,
      onlyInSource: missingFrom(source, target),
      onlyInTarget: missingFrom(target, source),
    });
  }
  return diffs;
}

/**
 * Makes `to` exactly `from`: adds what it lacks and deletes what it has extra. Only while `to`
 * is not the deployed backend (nothing else writes it), e.g. right before the deploy.
 */
export async function syncGraph(from: GraphStore, to: GraphStore) {
  const counts = { added: 0, removed: 0 };
  for (const diff of await diffGraph(from, to)) {
    await to.add(diff.onlyInSource);
    await to.remove(diff.onlyInTarget);
    counts.added += diff.onlyInSource.length;
    counts.removed += diff.onlyInTarget.length;
  }
  return counts;
}

export interface CatchUpReport {
  /** Written in the source after the mark (by the old version during the deploy). */
  added: Relationship[];
  /** Copied before the mark, then deleted in the source (revocations during the deploy). */
  removed: Relationship[];
  /** In the source, but the target had them at the mark and deleted them since: left deleted. */
  keptDeleted: Relationship[];
}

/**
 * After the deploy made `to` the live backend: replays what the old version changed in `from`
 * since `mark` (taken right after the last `syncGraph`), without undoing what the new version
 * has done in `to` since. One side is SpiceDB, whose snapshot at the mark tells which edges the
 * target held then (a postgres target's own `created_at` tells it for edges still there).
 */
export async function catchUp(from: GraphStore, to: GraphStore, mark: Mark): Promise<CatchUpReport> {
  const report: CatchUpReport = { added: [], removed: [], keptDeleted: [] };
  // After a sync the two stores agreed at the mark, so the SpiceDB side's snapshot stands for both.
  const history = to.kind === "spicedb" ? to : from;
  for (const type of copiedTypes) {
    const source = await readType(from, type);
    const target = await readType(to, type);
    const heldAtMark = await readType(history, type, mark);
    const targetAtMark = history === to ? heldAtMark : await readType(to, type, mark);
    const add: Relationship[] = [];
    for (const edge of missingFrom(source, target)) {
      (heldAtMark.has(edgeKey(edge)) ? report.keptDeleted : add).push(edge);
    }
    const remove = missingFrom(target, source).filter((edge) => targetAtMark.has(edgeKey(edge)));
    await to.add(add);
    await to.remove(remove);
    report.added.push(...add);
    report.removed.push(...remove);
  }
  return report;
}

/** The point `catchUp` replays from: both stores' "now". */
export async function takeMark(stores: {
  spicedb: { token(): Promise<string> };
  postgres: { now(): Promise<Date> };
}) {
  const token = await stores.spicedb.token();
  const at = await stores.postgres.now();
  return { token, at: at.toISOString() } satisfies Mark;
}
