// llama.cpp as a reference engine (node-llama-cpp, optional peer dependency, run in a child process).
export {
  runLlamaCpp, llamaCppAvailable, MODULE_ENV, type LlamaCppJob, type LlamaCppResult, type LlamaCppOptions,
} from './llamacpp.js';
export { LlamaCppReferenceError } from '../errors.js';
