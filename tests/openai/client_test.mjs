// `itera serve` driven by the official OpenAI client library, as a user would
// drive it: completions (plain, streamed, with usage, logprobs, echo scoring,
// token-id prompts), the model list, chat completions (plain, streamed, with
// logprobs) and a request the server must refuse.
//
// usage: node client_test.mjs BASE_URL MODEL
//   BASE_URL  e.g. http://127.0.0.1:8000/v1
//   MODEL     the served variant's name (itera serve --name)
//
// Prints "ok <case>" or "FAIL <case>: <why>" per case; exits 1 if any failed.
// tests/openai/run.sh trains a tiny byte-tokenizer model and runs this against
// it: with the byte tokenizer a prompt's token count is its UTF-8 byte count
// and token ids are byte values, which a few checks rely on.

import OpenAI from "openai";

const [baseURL, model] = process.argv.slice(2);
if (!baseURL || !model) {
  console.error("usage: node client_test.mjs BASE_URL MODEL");
  process.exit(2);
}
// No retries: a failure shows at once, as the server answered it.
const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0, timeout: 60_000 });

const PROMPT = "Call me Ishmael. Some years ago";
const bytes = (s) => Buffer.byteLength(s, "utf8");

class CheckError extends Error {}
function check(condition, why, detail) {
  if (!condition) {
    const shown = detail === undefined ? "" : `\n  got: ${JSON.stringify(detail)}`;
    throw new CheckError(why + shown);
  }
}

// Collects a stream's chunks, checking each carries the answer's id and time.
async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  check(chunks.length > 0, "the stream had no chunks");
  for (const c of chunks) {
    check(typeof c.id === "string" && c.id.length > 0, "a chunk has no id", c);
    check(Number.isInteger(c.created) && c.created > 0, "a chunk has no created time", c);
    check(c.id === chunks[0].id, "the chunks' ids differ", [chunks[0].id, c.id]);
    check(c.created === chunks[0].created, "the chunks' created times differ", c);
  }
  return chunks;
}

// The one chunk that says why the answer ended: exactly one, the last with choices.
function finishChunk(chunks) {
  const withChoices = chunks.filter((c) => c.choices.length > 0);
  const finished = withChoices.filter((c) => c.choices[0].finish_reason != null);
  check(finished.length === 1, `expected one chunk with a finish_reason, got ${finished.length}`,
        finished);
  check(finished[0] === withChoices[withChoices.length - 1],
        "the finish_reason chunk is not the last chunk with choices");
  return finished[0];
}

// Checks a completions logprobs object against the answer's text.
function checkCompletionLogprobs(lp, text, alternatives) {
  check(lp && Array.isArray(lp.tokens), "no logprobs.tokens", lp);
  const n = lp.tokens.length;
  for (const key of ["token_logprobs", "top_logprobs", "text_offset"])
    check(Array.isArray(lp[key]) && lp[key].length === n,
          `logprobs.${key} does not have one entry per token (${n})`, lp[key]);
  check(lp.tokens.join("") === text, "the tokens do not spell the text", { tokens: lp.tokens, text });
  let offset = 0;
  for (let i = 0; i < n; i++) {
    check(lp.text_offset[i] === offset, `text_offset[${i}] should be ${offset}`, lp.text_offset);
    offset += bytes(lp.tokens[i]);
    const value = lp.token_logprobs[i];
    if (value === null) {  // allowed only for a first token with nothing before it
      check(i === 0 && lp.top_logprobs[i] === null, `token ${i} has a null logprob`, lp);
      continue;
    }
    check(typeof value === "number" && value <= 1e-6, `token ${i}'s logprob is not a log-probability`, value);
    const top = lp.top_logprobs[i];
    check(top && typeof top === "object", `top_logprobs[${i}] is not an object`, top);
    const values = Object.values(top);
    // The legacy format keys alternatives by their text, so two tokens that
    // decode to the same text (e.g. two invalid bytes, both U+FFFD) are one entry.
    check(values.length >= 1 && values.length <= alternatives,
          `top_logprobs[${i}] has ${values.length} alternatives, asked for ${alternatives}`, top);
    check(values.every((v) => typeof v === "number" && v <= 1e-6),
          `top_logprobs[${i}] holds a value that is not a log-probability`, top);
    check(Math.max(...values) >= value - 1e-4,
          `token ${i}'s logprob exceeds every alternative's`, { value, top });
  }
  return lp;
}

// --- completions --------------------------------------------------------------------

async function plainCompletion() {
  const r = await client.completions.create({ model, prompt: PROMPT, max_tokens: 24, temperature: 0 });
  check(r.object === "text_completion", "object is not text_completion", r.object);
  check(typeof r.id === "string" && r.id.length > 0 && Number.isInteger(r.created), "no id or created", r);
  check(r.model === model, `model is not ${model}`, r.model);
  check(r.choices.length === 1, "expected one choice", r.choices);
  const c = r.choices[0];
  check(typeof c.text === "string" && c.text.length > 0, "no text", c);
  check(c.index === 0 && c.logprobs === null, "index 0 and null logprobs expected", c);
  check(["stop", "length"].includes(c.finish_reason), "finish_reason is not stop or length", c);
  const u = r.usage;
  check(u && u.prompt_tokens === bytes(PROMPT), `prompt_tokens should be ${bytes(PROMPT)} (byte tokenizer)`, u);
  check(u.completion_tokens >= 1 && u.completion_tokens <= 24, "completion_tokens not in 1..24", u);
  check(u.total_tokens === u.prompt_tokens + u.completion_tokens, "total_tokens is not the sum", u);
  if (c.finish_reason === "length") check(u.completion_tokens === 24, "length with fewer than 24 tokens", u);
  const again = await client.completions.create({ model, prompt: PROMPT, max_tokens: 24, temperature: 0 });
  check(again.choices[0].text === c.text, "temperature 0 gave two different answers",
        [c.text, again.choices[0].text]);
}

async function streamedCompletionMatchesPlain() {
  // Sampled (not greedy) with a fixed seed: the text depends only on prompt, settings and seed.
  const request = { model, prompt: PROMPT, max_tokens: 40, temperature: 0.9, seed: 1234 };
  const plain = await client.completions.create(request);
  const chunks = await collect(await client.completions.create({ ...request, stream: true }));
  for (const c of chunks)
    check(c.object === "text_completion" && c.choices.length === 1, "a chunk is not a text_completion chunk", c);
  const text = chunks.map((c) => c.choices[0].text).join("");
  check(text === plain.choices[0].text, "the chunks' texts do not add up to the plain answer",
        { streamed: text, plain: plain.choices[0].text, chunks: chunks.map((c) => c.choices[0].text) });
  const last = finishChunk(chunks);
  check(last.choices[0].finish_reason === plain.choices[0].finish_reason,
        "the stream's finish_reason differs from the plain answer's",
        [last.choices[0].finish_reason, plain.choices[0].finish_reason]);
  check(!chunks.some((c) => c.usage), "a usage chunk came without stream_options.include_usage");
}

async function streamIncludeUsage() {
  const request = { model, prompt: PROMPT, max_tokens: 20, temperature: 0 };
  const plain = await client.completions.create(request);
  const chunks = await collect(await client.completions.create({
    ...request, stream: true, stream_options: { include_usage: true } }));
  const last = chunks[chunks.length - 1];
  check(last.usage, "the last chunk has no usage", last);
  check(Array.isArray(last.choices) && last.choices.length === 0, "the usage chunk has choices", last);
  check(chunks.slice(0, -1).every((c) => !c.usage), "usage came before the last chunk");
  const u = last.usage, p = plain.usage;
  check(u.prompt_tokens === p.prompt_tokens && u.completion_tokens === p.completion_tokens &&
        u.total_tokens === p.total_tokens, "the stream's usage differs from the plain answer's", { stream: u, plain: p });
  finishChunk(chunks);
}

async function completionLogprobs() {
  const r = await client.completions.create({ model, prompt: PROMPT, max_tokens: 12, temperature: 0, logprobs: 3 });
  const c = r.choices[0];
  const lp = checkCompletionLogprobs(c.logprobs, c.text, 3);
  check(lp.tokens.length === r.usage.completion_tokens, "one logprobs entry per generated token expected",
        { tokens: lp.tokens.length, usage: r.usage });
  check(lp.token_logprobs.every((v) => v !== null), "a generated token has a null logprob", lp.token_logprobs);
  // Greedy: each token is the most likely one, so its logprob is the top alternative's.
  lp.tokens.forEach((t, i) => {
    const best = Math.max(...Object.values(lp.top_logprobs[i]));
    check(Math.abs(best - lp.token_logprobs[i]) < 1e-4, `greedy token ${i} is not the most likely`,
          { token: t, logprob: lp.token_logprobs[i], top: lp.top_logprobs[i] });
  });
}

async function echoScoresPrompt() {
  // How lm-evaluation-harness scores text: echo the prompt, generate nothing, read its logprobs.
  const text = "Call me Ishmael.";
  const r = await client.completions.create({ model, prompt: text, max_tokens: 0, echo: true, logprobs: 1, temperature: 0 });
  const c = r.choices[0];
  check(c.text === text, "with max_tokens 0 the answer should be the prompt itself", c.text);
  const lp = checkCompletionLogprobs(c.logprobs, text, 1);
  check(lp.tokens.length === bytes(text), `expected ${bytes(text)} prompt tokens`, lp.tokens);
  check(lp.token_logprobs.slice(1).every((v) => typeof v === "number"),
        "every prompt token after the first needs a logprob", lp.token_logprobs);
  check(r.usage.prompt_tokens === bytes(text) && r.usage.completion_tokens === 0, "usage: the prompt, nothing generated", r.usage);
}

async function echoAgreesWithGeneration() {
  // The logprobs of a greedy continuation, generated, equal the same tokens' logprobs scored with echo.
  const gen = await client.completions.create({ model, prompt: PROMPT, max_tokens: 10, temperature: 0, logprobs: 1 });
  const continuation = gen.choices[0].text;
  const scored = await client.completions.create({
    model, prompt: PROMPT + continuation, max_tokens: 0, echo: true, logprobs: 1, temperature: 0 });
  const lp = scored.choices[0].logprobs;
  const tail = lp.token_logprobs.slice(bytes(PROMPT));
  const want = gen.choices[0].logprobs.token_logprobs;
  check(tail.length === want.length, "the scored continuation has a different token count", { tail, want });
  want.forEach((v, i) =>
    check(Math.abs(v - tail[i]) < 1e-2, `token ${i}: generated logprob ${v}, scored ${tail[i]}`, { want, tail }));
}

async function tokenIdPrompt() {
  const text = "The whale";
  const ids = [...Buffer.from(text, "utf8")];  // byte tokenizer: token id = byte value
  const echoed = await client.completions.create({ model, prompt: ids, max_tokens: 0, echo: true });
  check(echoed.choices[0].text === text, "echo of a token-id prompt is not its text", echoed.choices[0].text);
  check(echoed.usage.prompt_tokens === ids.length, "prompt_tokens is not the number of ids", echoed.usage);
  const byIds = await client.completions.create({ model, prompt: ids, max_tokens: 16, temperature: 0 });
  const byText = await client.completions.create({ model, prompt: text, max_tokens: 16, temperature: 0 });
  check(byIds.choices[0].text === byText.choices[0].text, "the ids and the text gave different answers",
        { ids: byIds.choices[0].text, text: byText.choices[0].text });
  const nested = await client.completions.create({ model, prompt: [ids], max_tokens: 16, temperature: 0 });
  check(nested.choices[0].text === byText.choices[0].text, "a list of one id list gave another answer",
        nested.choices[0].text);
}

async function modelsList() {
  const ids = [];
  for await (const m of client.models.list()) {
    check(m.object === "model" && typeof m.owned_by === "string" && Number.isInteger(m.created), "a model entry is incomplete", m);
    ids.push(m.id);
  }
  check(ids.includes(model), `the model list lacks ${model}`, ids);
}

// --- chat completions ----------------------------------------------------------------

const MESSAGES = [
  { role: "system", content: "You answer in one sentence." },
  { role: "user", content: "Who is Ishmael?" },
];
// The plain template of docs/serving.md / core/serve/requests.cpp chat_prompt().
const TEMPLATE = "System: You answer in one sentence.\n\nUser: Who is Ishmael?\n\nAssistant:";

async function plainChat() {
  const r = await client.chat.completions.create({ model, messages: MESSAGES, max_tokens: 24, temperature: 0 });
  check(r.object === "chat.completion", "object is not chat.completion", r.object);
  check(typeof r.id === "string" && r.id.length > 0 && Number.isInteger(r.created), "no id or created", r);
  check(r.model === model && r.choices.length === 1, "model or choices wrong", r);
  const c = r.choices[0];
  check(c.message.role === "assistant" && typeof c.message.content === "string", "no assistant message", c);
  check(["stop", "length"].includes(c.finish_reason), "finish_reason is not stop or length", c);
  check(c.logprobs === null, "logprobs given without being asked for", c.logprobs);
  for (const turn of ["\n\nUser:", "\n\nSystem:"])
    check(!c.message.content.includes(turn), `the answer runs on into the next turn (${JSON.stringify(turn)})`, c.message.content);
  check(r.usage.prompt_tokens === bytes(TEMPLATE), `prompt_tokens should be the template's ${bytes(TEMPLATE)} bytes`, r.usage);
  check(r.usage.completion_tokens >= 1 && r.usage.completion_tokens <= 24, "completion_tokens not in 1..24", r.usage);
}

async function streamedChatMatchesPlain() {
  const request = { model, messages: MESSAGES, max_tokens: 40, temperature: 0.9, seed: 99 };
  const plain = await client.chat.completions.create(request);
  const chunks = await collect(await client.chat.completions.create({ ...request, stream: true }));
  for (const c of chunks)
    check(c.object === "chat.completion.chunk" && c.choices.length === 1, "a chunk is not a chat.completion.chunk", c);
  check(chunks[0].choices[0].delta.role === "assistant", "the first delta does not say the role", chunks[0]);
  const content = chunks.map((c) => c.choices[0].delta.content ?? "").join("");
  check(content === plain.choices[0].message.content, "the deltas do not add up to the plain message",
        { streamed: content, plain: plain.choices[0].message.content });
  const last = finishChunk(chunks);
  check(last.choices[0].finish_reason === plain.choices[0].finish_reason, "finish_reason differs",
        [last.choices[0].finish_reason, plain.choices[0].finish_reason]);
  // With usage too: the chat stream's last chunk.
  const withUsage = await collect(await client.chat.completions.create({
    ...request, stream: true, stream_options: { include_usage: true } }));
  const u = withUsage[withUsage.length - 1];
  check(u.usage && u.choices.length === 0, "no usage chunk at the end of the chat stream", u);
  check(u.usage.completion_tokens === plain.usage.completion_tokens &&
        u.usage.prompt_tokens === plain.usage.prompt_tokens, "the chat stream's usage differs", [u.usage, plain.usage]);
}

async function chatLogprobs() {
  const r = await client.chat.completions.create({
    model, messages: MESSAGES, max_tokens: 12, temperature: 0, logprobs: true, top_logprobs: 2 });
  const c = r.choices[0];
  const content = c.logprobs?.content;
  check(Array.isArray(content) && content.length > 0, "no logprobs.content", c.logprobs);
  for (const [i, t] of content.entries()) {
    check(typeof t.token === "string" && typeof t.logprob === "number" && t.logprob <= 1e-6,
          `entry ${i} has no token or logprob`, t);
    check(JSON.stringify(t.bytes) === JSON.stringify([...Buffer.from(t.token, "utf8")]),
          `entry ${i}'s bytes are not its token's UTF-8`, t);
    check(Array.isArray(t.top_logprobs) && t.top_logprobs.length === 2, `entry ${i} does not have 2 alternatives`, t);
    for (const a of t.top_logprobs)
      check(typeof a.token === "string" && typeof a.logprob === "number" && Array.isArray(a.bytes),
            `an alternative of entry ${i} is incomplete`, a);
    check(Math.abs(t.top_logprobs[0].logprob - t.logprob) < 1e-4, `greedy entry ${i} is not the most likely`, t);
  }
  const spelled = content.map((t) => t.token).join("");
  const text = c.message.content;
  if (c.finish_reason === "length")
    check(spelled === text, "the logprobs' tokens do not spell the message", { spelled, text });
  else
    check(spelled.startsWith(text), "the logprobs' tokens do not start with the message", { spelled, text });
}

// --- errors ---------------------------------------------------------------------------

// The request must fail with openai.BadRequestError (400) naming `field`.
async function expectBadRequest(request, field) {
  let err;
  try {
    await request();
  } catch (e) {
    err = e;
  }
  check(err, "the request was accepted");
  check(err instanceof OpenAI.BadRequestError, `expected openai.BadRequestError, got ${err?.constructor?.name}: ${err?.message}`);
  check(err.status === 400, "status is not 400", err.status);
  check(String(err.message).includes(field), `the error does not name ${field}`, { message: err.message, error: err.error });
  // OpenAI's error shape: the client reads these as err.param and err.type.
  check(err.param === field, `err.param is not ${field}`, err.error);
  check(err.type === "invalid_request_error", "err.type is not invalid_request_error", err.error);
}

async function unknownFieldRejected() {
  await expectBadRequest(
    () => client.completions.create({ model, prompt: PROMPT, max_tokens: 4, temprature: 0 }), "temprature");
}

async function unknownChatFieldRejected() {
  await expectBadRequest(
    () => client.chat.completions.create({ model, messages: MESSAGES, max_tokens: 4, top_logprob: 2 }), "top_logprob");
}

// --- runner ---------------------------------------------------------------------------

const cases = {
  "completion": plainCompletion,
  "completion stream equals plain": streamedCompletionMatchesPlain,
  "completion stream include_usage": streamIncludeUsage,
  "completion logprobs 3": completionLogprobs,
  "completion echo scores the prompt": echoScoresPrompt,
  "completion logprobs agree with echo scoring": echoAgreesWithGeneration,
  "completion token-id prompt": tokenIdPrompt,
  "models list": modelsList,
  "chat": plainChat,
  "chat stream equals plain": streamedChatMatchesPlain,
  "chat logprobs top 2": chatLogprobs,
  "unknown field is BadRequestError": unknownFieldRejected,
  "unknown chat field is BadRequestError": unknownChatFieldRejected,
};

let failed = 0;
for (const [name, run] of Object.entries(cases)) {
  try {
    await run();
    console.log(`ok ${name}`);
  } catch (e) {
    failed++;
    const why = e instanceof CheckError ? e.message
      : e instanceof OpenAI.APIError ? `${e.constructor.name} ${e.status ?? ""}: ${e.message}` +
          (e.error ? `\n  server: ${JSON.stringify(e.error)}` : "")
      : (e?.stack ?? String(e));
    console.log(`FAIL ${name}: ${why}`);
  }
}
console.log(failed ? `${failed} of ${Object.keys(cases).length} cases failed`
                   : `all ${Object.keys(cases).length} cases passed`);
process.exit(failed ? 1 : 0);
