// What a self-rewarding method is to the loop (src/run/loop.ts), which runs every method the same way:
// per iteration, the method's pair source turns M_t into preference pairs (iter-t/pairs.jsonl and
// pairs.json), then step-wise DPO from M_t gives M_{t+1}, then every model is evaluated with the same
// solving and next-step measures plus the method's own self-judge benchmark. The methods differ only in
// what is declared here:
//   PSRLM (src/run/psrlm.ts, paper §3.3–3.4): judge health, step-wise search with pairwise self-judging,
//         step pairs; its judge is measured on held-out EFT pairs of steps.
//   SRLM  (src/run/srlm.ts, paper §4.1 "Baseline"): whole solutions sampled and self-scored 0–5, best vs
//         worst; its scorer is measured on held-out scored solutions.
// and in how their records read in summary.json, report.md and report.html (src/run/summary.ts,
// src/run/report.ts).
import type { Engine } from '../engine/types.js';
import type { RunConfig } from './config.js';
import type { Stage, StageContext } from './stage.js';

export type MethodName = RunConfig['method'];

/** The self-judge of each model on its own held-out benchmark (eval.json's `judge`). */
export type JudgeBench = (engine: Engine) => Promise<{ accuracy: number }>;

/** How M_t's self-judge did on the candidates it ranked in iteration t (a row of summary.json). */
export interface ParentHealth {
  judge_health_of_parent: string;
  /** Share of accepted steps the verifier calls right (a method that picks steps). */
  chosen_step_verifier_agreement?: number;
}

/** The self-judge's picks on its own mixed candidates in one iteration, as report.html draws them. */
export interface HealthFigures {
  label: string;
  /** Its pick is right, a random candidate is right, a majority vote is right. */
  pick: number | null;
  random: number | null;
  majority: number | null;
  /** Verdicts naming the first-shown candidate, and order flips of right-vs-wrong pairs (pairwise judges). */
  first: number | null;
  flip: number | null;
  /** Share of mixed prefixes, when the method counts them. */
  mixed: number | null;
}

/** The per-iteration table of report.md and report.html: one row per iteration (null: its file is missing). */
export interface IterationTable {
  heading: string;
  columns: string[];
  row(dir: string, t: number): string[] | null;
}

export interface Method {
  /** The config's `method`. */
  key: MethodName;
  /** Its name in report.html and its charts. */
  name: string;
  /** report.md's title: "<title> run: M1 → Mn". */
  title: string;
  /** The method a report draws beside it (`psrlm report <run> --baseline <run of that method>`). */
  comparedWith: MethodName;
  /** The stages that turn M_t into its preference pairs (iter-t/pairs.jsonl and pairs.json), in order. */
  pairSource: readonly Stage[];
  /** The benchmark of its self-judge for a run, built at its first use. */
  judgeBench(ctx: StageContext): JudgeBench;
  /** Iteration t's figures of M_t's self-judge, from the files the pair source wrote in `dir`. */
  parentHealth(dir: string): ParentHealth;
  /** The same for report.html; null when the iteration has none (not measured, or not run yet). */
  healthFigures(dir: string): HealthFigures | null;
  iterations: IterationTable;
  /** The per-iteration figures graded against gold answers, in a run on a file's questions (src/run/outcomes.ts);
   *  its rows are null in a run on the synthetic world. */
  outcomes: IterationTable;
  /** The wording of its reports. */
  words: {
    /** Its self-judge: "judge" or "scorer" (the health columns and the gate). */
    judge: string;
    /** The models table's judge-accuracy column. */
    judgeColumn: string;
    /** report.md's column of the verifier's agreement with chosen steps ('–': the method chooses none). */
    verifierColumn: string;
    /** After the start model in report.md's first line, and at the end of that paragraph. */
    modelNote: string;
    judgeNote: string;
    /** The health panel when no iteration has figures. */
    noHealth: string;
    pickTitle: string;
    pickSeries: string;
    /** The second health chart: its title, reference lines and series. */
    sideTitle: string;
    sideRefs: Array<{ value: number; label: string }>;
    sideSeries: Array<{ name: string; of: 'first' | 'flip' | 'judgeAcc' }>;
  };
}

/** A self-judge's pick on its own mixed samples against chance and a majority vote; `below` is the
 *  method's loud label for a pick no better than a random one (its pairs are then noise). */
export function chanceLabel(pick: number, random: number, beatsMajority: boolean, below: string): string {
  if (pick <= random) return below;
  return beatsMajority ? 'above chance and above a majority vote' : 'above chance, not above a majority vote';
}
