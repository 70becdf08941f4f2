export { HISTORY_DIR, historyFiles, readManifest, recordHistory, sha256 } from '../stack/histories';
