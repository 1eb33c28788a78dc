import { QuantscopeError } from '../errors.js';
import type { Model } from '../model.js';
import { dequantizeRow } from '../model/weights.js';

/**
 * Row `id` of the token embedding, dequantized by the engine's own kernel for the tensor's
 * format: exactly the vector the forward pass starts layer 0 from.
 */
export function embeddingRow(model: Model, id: number): Float32Array {
  model.assertAlive();
  const { nEmbd, nVocab } = model.config;
  if (!Number.isInteger(id) || id < 0 || id >= nVocab) {
    throw new QuantscopeError('invalid_argument', `token ${id} is outside the vocabulary [0, ${nVocab})`);
  }
  const { weights, engine } = model.loaded;
  const t = weights.tokenEmbd;
  const dst = engine.arena.alloc(nEmbd * 4, 'an embedding row');
  try {
    dequantizeRow(t, id, dst);
    return engine.arena.f32(dst, nEmbd).slice();
  } finally {
    engine.arena.release(dst);
  }
}
