// What a run measures. Every cell listed here runs; the cells left out of the matrix are listed
// with the reason, and the report prints both.

export type Mode = "unbatched" | "batched";

export interface CellPlan {
  mode: Mode;
  jobs: number;
  consumers: number;
  repetitions: number;
}

export interface RunPlan {
  name: "quick" | "full";
  cells: CellPlan[];
  omitted: string[];
  claimLatency: { small: number; large: number; claims: number };
  submitToClaim: { tasks: number; pollMs: number };
  reclaimLeases: number;
  runtime: { jobs: number; consumers: number };
  workerLatency: { samples: number };
}

const cells = (mode: Mode, jobs: number, consumers: number[], repetitions: number): CellPlan[] =>
  consumers.map((n) => ({ mode, jobs, consumers: n, repetitions }));

export const fullPlan: RunPlan = {
  name: "full",
  cells: [
    ...cells("unbatched", 1_000, [1, 4, 16, 64], 3),
    ...cells("unbatched", 20_000, [16], 2),
    ...cells("batched", 1_000, [16], 3),
    ...cells("batched", 20_000, [1, 4, 16, 64], 2),
    ...cells("batched", 100_000, [16], 2),
  ],
  omitted: [
    "unbatched at M=100k: one cell would take minutes per system (pg-boss slows down as its backlog grows), so the " +
      "30-minute budget cannot hold it; backlog sensitivity at 100k is measured batched and by the claim-latency probe",
    "unbatched at M=20k with N≠16, and batched at M=1k/100k with N≠16: the budget again; N is swept at M=1k " +
      "(unbatched) and M=20k (batched)",
  ],
  claimLatency: { small: 1_000, large: 100_000, claims: 300 },
  submitToClaim: { tasks: 200, pollMs: 50 },
  reclaimLeases: 10_000,
  runtime: { jobs: 1_000, consumers: 16 },
  workerLatency: { samples: 200 },
};

export const quickPlan: RunPlan = {
  name: "quick",
  cells: [...cells("unbatched", 1_000, [16], 2), ...cells("batched", 5_000, [16], 2)],
  omitted: [
    "--quick runs one unbatched and one batched cell with small M; run without --quick for the matrix",
  ],
  claimLatency: { small: 1_000, large: 20_000, claims: 100 },
  submitToClaim: { tasks: 50, pollMs: 50 },
  reclaimLeases: 2_000,
  runtime: { jobs: 300, consumers: 8 },
  workerLatency: { samples: 30 },
};
