/**
 * Intermediate tensors of the forward pass, named as llama.cpp names them in its graph
 * (`llama-eval-callback` prints `<name>-<layer>`), so statistics line up without a mapping.
 */
export const LAYER_TAPS = [
  'attn_norm',    // RMSNorm(x)·w before attention              [nEmbd]
  'Qcur',         // query after RoPE, head-major                 [nHead·headDim]
  'Kcur',         // key after RoPE                               [nHeadKv·headDim]
  'Vcur',         // value                                        [nHeadKv·headDim]
  'kqv_out',      // attention output after attn_output           [nEmbd]
  'ffn_inp',      // x + attention (residual)                     [nEmbd]
  'ffn_norm',     // RMSNorm(ffn_inp)·w                           [nEmbd]
  'ffn_gate',     // gate projection                              [nFf]
  'ffn_up',       // up projection                                [nFf]
  'ffn_gate_par', // silu(gate)·up, the SwiGLU product            [nFf]
  'ffn_out',      // down projection                              [nEmbd]
  'l_out',        // layer output: ffn_inp + ffn_out              [nEmbd]
] as const;

export const OUTPUT_TAPS = [
  'result_norm',   // final RMSNorm                               [nEmbd]
  'result_output', // logits                                      [nVocab]
] as const;

export type LayerTapName = (typeof LAYER_TAPS)[number];
export type OutputTapName = (typeof OUTPUT_TAPS)[number];
export type TapName = LayerTapName | OutputTapName;

/**
 * Called with a view of the tensor for `nTok` consecutive positions starting at `pos0`
 * (row-major [nTok][width]). `layer` is -1 for the output taps. The view is only valid during
 * the call: copy what you keep.
 */
export type TapFn = (name: TapName, layer: number, data: Float32Array, nTok: number, width: number, pos0: number) => void;
