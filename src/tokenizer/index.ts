export { Vocab, TokenType, TokenAttr } from './vocab.js';
export type { VocabInit } from './vocab.js';
export { tokenize, tokenToPiece, detokenize, detokenizeBytes, StreamingDecoder } from './spm.js';
export type { TokenizeOptions, TokenToPieceOptions, DetokenizeOptions, StreamingDecoderOptions } from './spm.js';
