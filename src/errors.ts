import type { LlamaCppResult } from './reference/llamacpp.js';

/**
 * Every failure quantscope reports is a QuantscopeError with a machine-readable `kind`,
 * so callers can branch without parsing messages.
 */
export type ErrorKind =
  | 'gguf'              // malformed or unreadable GGUF file
  | 'unsupported_type'  // a tensor type the engine has no kernel for
  | 'unsupported_model' // architecture / hyper-parameters the engine does not handle
  | 'context_overflow'  // more tokens than the session's context
  | 'invalid_argument'  // a bad option value from the caller
  | 'aborted'           // generation stopped by an AbortSignal
  | 'wasm'              // the WASM engine trapped or ran out of memory
  | 'reference';        // llama.cpp (through node-llama-cpp) could not give a reference result

export class QuantscopeError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = 'QuantscopeError';
  }
}

/** A GGUF file that cannot be read: says which file, at which byte, and what is wrong. */
export class GgufError extends QuantscopeError {
  readonly file: string;
  readonly offset: number;
  readonly reason: string;
  constructor(file: string, offset: number, reason: string, options?: { cause?: unknown }) {
    super('gguf', `${file}: at byte ${offset}: ${reason}`, options);
    this.name = 'GgufError';
    this.file = file;
    this.offset = offset;
    this.reason = reason;
  }
}

/** A tensor whose ggml type is known to GGUF but has no kernel here. */
export class UnsupportedTensorTypeError extends QuantscopeError {
  readonly tensor: string;
  readonly typeName: string;
  constructor(file: string, tensor: string, typeName: string, typeId: number, supported: readonly string[]) {
    super(
      'unsupported_type',
      `${file}: tensor '${tensor}' has type ${typeName} (ggml type id ${typeId}), which quantscope cannot run yet; supported: ${supported.join(', ')}`,
    );
    this.name = 'UnsupportedTensorTypeError';
    this.tensor = tensor;
    this.typeName = typeName;
  }
}

export class ContextOverflowError extends QuantscopeError {
  readonly needed: number;
  readonly contextSize: number;
  /** @param inUse positions already taken by earlier tokens of the session */
  constructor(needed: number, contextSize: number, inUse = 0) {
    const what = inUse > 0 ? `${needed - inUse} new tokens after the ${inUse} in context` : `${needed} tokens`;
    super('context_overflow', `${what} need ${needed} positions but the session's context holds ${contextSize}`);
    this.name = 'ContextOverflowError';
    this.needed = needed;
    this.contextSize = contextSize;
  }
}

export class AbortError extends QuantscopeError {
  constructor(message = 'generation aborted') {
    super('aborted', message);
    this.name = 'AbortError';
  }
}

/**
 * The llama.cpp reference run (node-llama-cpp in a child process) did not give results:
 * `unavailable` — node-llama-cpp (or its prebuilt binary, or our compiled child program) is missing;
 * `failed` — the child crashed, aborted or exited, or a job threw (bad model path, malformed GGUF);
 * `timeout` — a job took longer than allowed, and the child was killed.
 */
export class LlamaCppReferenceError extends QuantscopeError {
  readonly reason: 'unavailable' | 'failed' | 'timeout';
  /** the model of the job that was running, when the failure belongs to one */
  readonly modelPath: string | null;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** the last lines the child wrote to stderr/stdout (llama.cpp's own log says why a load failed) */
  readonly stderrTail: string;
  /** results of the jobs that finished before the failure, in job order (not enumerable, so that
   *  printing the error does not dump their probability vectors) */
  declare readonly completed: readonly LlamaCppResult[];
  constructor(
    reason: 'unavailable' | 'failed' | 'timeout',
    message: string,
    details: {
      modelPath?: string | null; exitCode?: number | null; signal?: string | null; stderrTail?: string;
      completed?: readonly LlamaCppResult[];
    } = {},
    options?: { cause?: unknown },
  ) {
    super('reference', message, options);
    this.name = 'LlamaCppReferenceError';
    this.reason = reason;
    this.modelPath = details.modelPath ?? null;
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
    this.stderrTail = details.stderrTail ?? '';
    Object.defineProperty(this, 'completed', { value: details.completed ?? [], enumerable: false });
  }
}
