/**
 * The one walk over a request body that decides everything its worst case needs (SPEC §5):
 * billable text, output limits, choices, cache writes and their TTL, images, files, stored
 * context and hosted tools. It reads the parsed body, so a JSON escape (`"cache\u005fcontrol"`)
 * means what it means to the provider; nothing is ever looked up in raw text.
 *
 * The rule for text is "everything": every key, string, number and literal anywhere in the body
 * is handed to `visitText`, whatever field it sits in, known or not. Only an image's own payload
 * (its URL, base64 data or file id) is left out, because an image is billed by its pixels: it
 * gets a ceiling instead. A new endpoint or field adds a rule here, never a second walk.
 */

type Obj = Record<string, unknown>;

export type CacheWrite = 'none' | '5m' | '1h';

export interface BodyShape {
  /** The largest output limit the body carries, if any (`max_tokens`, thinking budgets…). */
  outputLimit: number | undefined;
  /** The choices the body asks for (`n`, `best_of`), at least 1. */
  choices: number;
  /** The dearest cache write the body asks for (Anthropic `cache_control`, 1-hour TTL dearest). */
  cacheWrite: CacheWrite;
  /** Audio in the prompt (`input_audio` parts) or asked of the reply (`modalities`, `audio`): dearer rates. */
  audioInput: boolean;
  audioOutput: boolean;
  images: number;
  /** Files and documents: the provider reads them (pages, extracted text) on its side. */
  files: number;
  /** The provider adds an earlier conversation or stored items (`previous_response_id`, item references…). */
  storedContext: boolean;
  /** Tools the provider runs itself (web search and fetch, code execution, MCP servers…). */
  hostedTools: number;
  /** Tool definitions: each may bring a hidden system prompt or schema the provider adds. */
  toolDefinitions: number;
  /** JSON objects and arrays: the structure a provider's template renders around the text. */
  nodes: number;
  /** Keys seen: fewer than the raw text's key/value pairs means duplicate keys. */
  keys: number;
}

/** Where the body carries output limits: the largest one applies (a provider may honour any). */
const OUTPUT_LIMIT_KEYS = new Set([
  'max_tokens', 'max_completion_tokens', 'max_output_tokens', 'max_new_tokens', 'maxOutputTokens',
  'budget_tokens', 'thinking_budget', 'thinkingBudget',
]);
/** Containers of output-limit keys besides the root (Anthropic `thinking`, Gemini's `extra_body`…). */
const LIMIT_CONTAINERS = new Set(['thinking', 'reasoning', 'extra_body', 'google', 'thinking_config', 'generation_config', 'generationConfig', 'thinkingConfig']);
const CHOICE_KEYS = ['n', 'best_of', 'candidate_count', 'candidateCount'];

const IMAGE_TYPES = new Set(['image_url', 'input_image', 'image']);
/** An image part's payload: billed by pixels, so bounded by a ceiling rather than counted as text. */
const IMAGE_PAYLOAD_KEYS = new Set(['url', 'data', 'image_url', 'file_id']);
const FILE_TYPES = new Set(['file', 'input_file', 'document', 'container_upload']);

/** Tools the client runs: only their definitions are input. Any other typed tool is hosted. */
const CLIENT_TOOL = /^(function|custom|bash|text_editor|str_replace|computer|memory|local_shell|shell|apply_patch)/;

/** Output limits past this are refused by every provider; the clamp keeps sums exact in doubles. */
const MAX_OUTPUT_LIMIT = 100_000_000;
const MAX_CHOICES = 128;

/** Called with each text part; `isKey` for object keys (billed in schemas, not as message field names). */
export type TextVisitor = (text: string, isKey: boolean) => void;

export function walkBody(body: Obj, visitText?: TextVisitor): BodyShape {
  const shape: BodyShape = {
    outputLimit: undefined, choices: 1, cacheWrite: 'none', audioInput: false, audioOutput: false, images: 0, files: 0, storedContext: false,
    hostedTools: 0, toolDefinitions: 0, nodes: 0, keys: 0,
  };
  readRoot(body, shape);
  walk(body, shape, visitText, false);
  return shape;
}

/** What only the top level means: limits, choices, stored context, tools, MCP servers. */
function readRoot(body: Obj, shape: BodyShape): void {
  readLimits(body, shape);
  for (const key of CHOICE_KEYS) {
    const n = countValue(body[key]);
    if (n !== undefined) shape.choices = Math.max(shape.choices, Math.min(n, MAX_CHOICES));
  }
  const prompt = body.prompt;
  if (
    isNonEmpty(body.previous_response_id) ||
    isNonEmpty(body.conversation) ||
    isNonEmpty(body.container) ||
    (isObj(prompt) && 'id' in prompt)
  ) {
    shape.storedContext = true;
  }
  if (Array.isArray(body.input) && body.input.some(isItemReference)) shape.storedContext = true;
  if (Array.isArray(body.tools)) {
    for (const tool of body.tools) {
      shape.toolDefinitions++;
      const type = isObj(tool) ? tool.type : undefined;
      if (type !== undefined && type !== null && !CLIENT_TOOL.test(String(type))) shape.hostedTools++;
    }
  }
  if (Array.isArray(body.mcp_servers)) shape.hostedTools += body.mcp_servers.length;
  const modalities = body.modalities;
  shape.audioOutput = isNonEmpty(body.audio) || (Array.isArray(modalities) && modalities.includes('audio'));
  if (body.web_search_options !== undefined && body.web_search_options !== null) shape.hostedTools++;
}

function readLimits(o: Obj, shape: BodyShape): void {
  for (const [key, value] of Object.entries(o)) {
    if (OUTPUT_LIMIT_KEYS.has(key)) {
      const n = countValue(value);
      if (n !== undefined) shape.outputLimit = Math.max(shape.outputLimit ?? 0, Math.min(n, MAX_OUTPUT_LIMIT));
    } else if (LIMIT_CONTAINERS.has(key) && isObj(value)) {
      readLimits(value, shape);
    }
  }
}

/**
 * Depth is bounded by the body parser (128 levels). `inImage`: inside an image part, whose
 * payload strings are not text.
 */
function walk(v: unknown, shape: BodyShape, visitText: TextVisitor | undefined, inImage: boolean): void {
  if (typeof v === 'string') {
    visitText?.(v, false);
  } else if (Array.isArray(v)) {
    shape.nodes++;
    for (const item of v) walk(item, shape, visitText, inImage);
  } else if (v !== null && typeof v === 'object') {
    shape.nodes++;
    const o = v as Obj;
    const type = o.type;
    let image = inImage;
    if (typeof type === 'string' && IMAGE_TYPES.has(type)) {
      shape.images++;
      image = true;
    } else if (typeof type === 'string' && FILE_TYPES.has(type)) shape.files++;
    else if (type === 'input_audio') shape.audioInput = true;
    else if (type === 'item_reference') shape.storedContext = true;
    if ('cache_control' in o && o.cache_control !== null && o.cache_control !== undefined) {
      shape.cacheWrite = cacheWriteOf(o.cache_control, shape.cacheWrite);
    }
    for (const [key, child] of Object.entries(o)) {
      shape.keys++;
      visitText?.(key, true);
      if (image && typeof child === 'string' && IMAGE_PAYLOAD_KEYS.has(key)) continue;
      walk(child, shape, visitText, image);
    }
  } else if (v !== undefined) {
    visitText?.(String(v), false); // numbers (token ids, schema bounds), true, false, null
  }
}

/** Anthropic's default TTL is 5 minutes; any other stated TTL is read as the dearer 1 hour. */
function cacheWriteOf(control: unknown, sofar: CacheWrite): CacheWrite {
  const ttl = isObj(control) ? control.ttl : undefined;
  if (ttl === undefined || ttl === null || ttl === '5m') return sofar === 'none' ? '5m' : sofar;
  return '1h';
}

/**
 * A Responses input item that only points at a stored one: `item_reference`, or an item given
 * by its id alone (the type is optional), whose content the provider fetches itself.
 */
function isItemReference(item: unknown): boolean {
  if (!isObj(item)) return false;
  if (item.type === 'item_reference') return true;
  const carriesContent = ['content', 'output', 'arguments', 'encrypted_content', 'role', 'text', 'result'].some((k) => k in item);
  return typeof item.id === 'string' && !carriesContent;
}

/**
 * A positive count as a provider would read it: providers coerce `"3"` and `3.0` to 3, so every
 * JSON type that can mean a number is read as one (rounded up); anything else means no limit.
 */
export function countValue(v: unknown): number | undefined {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\s*\+?(\d+\.?\d*|\.\d+)([eE]\+?\d+)?\s*$/.test(v)) n = Number(v);
  else return undefined;
  return Number.isFinite(n) && n > 0 ? Math.ceil(n) : undefined;
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isNonEmpty(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '' && v !== false;
}
