// postinstall: makes @confluentinc/kafka-javascript 1.10.1's consumed-record conversion cheaper, when the
// binding was built from source here (CKJS_LINKING=dynamic npm ci), and rebuilds it.
//
// Why: the binding turns every consumed record into a JS object in C++ (src/common.cc, ToV8Object), and
// creates each property name ("value", "key", "topic", …) as a new string per record, which V8 then
// hashes and interns on every property set. In perf on the scorer's Node thread that conversion was
// 20.9 % of a drain. Names interned once per thread (and the topic name looked up, not copied)
// cut the KafkaJS-compatible consumer's CPU from 7.2–7.5 to 5.9–6.4 µs per record, and the scorer's
// exactly-once drain went from a median of 25,523 to 29,932 tx/s (paired runs:
// bench/results/ab-binding-patch.json).
//
// Anything unexpected (another version, a prebuilt binary with no build directory, a source already
// different) leaves the binding as it is, with one line saying so: the client works either way.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const VERSION = '1.10.1';
const MARK = '// fraudscore: interned property names';
const say = (msg) => console.log(`[patch-confluent] ${msg}`);

function packageDir() {
  try {
    return path.dirname(createRequire(import.meta.url).resolve('@confluentinc/kafka-javascript/package.json'));
  } catch {
    return undefined;
  }
}

const START = `v8::Local<v8::Object> ToV8Object(RdKafka::Message *message,
                                bool include_payload,
                                bool include_headers) {`;
const END = '}  // namespace Message';

const REPLACEMENT = `${MARK} (see scripts/patch-confluent.mjs of fraudscore).
// One set per thread (an isolate's JS runs on one thread at a time); rebuilt if another isolate uses it.
struct MessageNames {
  v8::Isolate* isolate = nullptr;
  v8::Eternal<v8::String> value, headers, size, key, topic, offset, partition, timestamp, leaderEpoch;
};

static v8::Local<v8::String> Interned(v8::Isolate* isolate, v8::Eternal<v8::String>* slot, const char* name) {
  if (slot->IsEmpty()) {
    slot->Set(isolate, v8::String::NewFromUtf8(isolate, name, v8::NewStringType::kInternalized).ToLocalChecked());
  }
  return slot->Get(isolate);
}

static MessageNames& Names() {
  static thread_local MessageNames names;
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (names.isolate != isolate) {
    names = MessageNames();
    names.isolate = isolate;
  }
  return names;
}

v8::Local<v8::Object> ToV8Object(RdKafka::Message *message,
                                bool include_payload,
                                bool include_headers) {
  if (message->err() == RdKafka::ERR_NO_ERROR) {
    MessageNames& n = Names();
    v8::Isolate* isolate = n.isolate;
    v8::Local<v8::Object> pack = Nan::New<v8::Object>();

    const void* message_payload = message->payload();

    if (!include_payload) {
      Nan::Set(pack, Interned(isolate, &n.value, "value"), Nan::Undefined());
    } else if (message_payload) {
      Nan::Set(pack, Interned(isolate, &n.value, "value"),
        Nan::Encode(message_payload, message->len(), Nan::Encoding::BUFFER));
    } else {
      Nan::Set(pack, Interned(isolate, &n.value, "value"), Nan::Null());
    }

    RdKafka::Headers* headers;
    if (((headers = message->headers()) != 0) && include_headers) {
      v8::Local<v8::Array> v8headers = Nan::New<v8::Array>();
      int index = 0;
      std::vector<RdKafka::Headers::Header> all = headers->get_all();
      for (std::vector<RdKafka::Headers::Header>::iterator it = all.begin();
                                                     it != all.end(); it++) {
        v8::Local<v8::Object> v8header = Nan::New<v8::Object>();
        Nan::Set(v8header, Nan::New<v8::String>(it->key()).ToLocalChecked(),
          Nan::Encode(it->value_string(),
            it->value_size(), Nan::Encoding::BUFFER));
        Nan::Set(v8headers, index, v8header);
        index++;
      }
      Nan::Set(pack, Interned(isolate, &n.headers, "headers"), v8headers);
    }

    Nan::Set(pack, Interned(isolate, &n.size, "size"),
      Nan::New<v8::Number>(message->len()));

    const void* key_payload = message->key_pointer();

    if (key_payload) {
      // We want this to also be a buffer to avoid corruption
      // https://github.com/confluentinc/confluent-kafka-javascript/issues/208
      Nan::Set(pack, Interned(isolate, &n.key, "key"),
        Nan::Encode(key_payload, message->key_len(), Nan::Encoding::BUFFER));
    } else {
      Nan::Set(pack, Interned(isolate, &n.key, "key"), Nan::Null());
    }

    // Interned: a lookup in V8's string table, not a new string per record.
    const std::string& topic = message->topic_name();
    Nan::Set(pack, Interned(isolate, &n.topic, "topic"),
      v8::String::NewFromUtf8(isolate, topic.c_str(), v8::NewStringType::kInternalized,
        static_cast<int>(topic.size())).ToLocalChecked());
    Nan::Set(pack, Interned(isolate, &n.offset, "offset"),
      Nan::New<v8::Number>(message->offset()));
    Nan::Set(pack, Interned(isolate, &n.partition, "partition"),
      Nan::New<v8::Number>(message->partition()));
    Nan::Set(pack, Interned(isolate, &n.timestamp, "timestamp"),
      Nan::New<v8::Number>(message->timestamp().timestamp));

    int32_t leader_epoch = message->leader_epoch();
    if (leader_epoch >= 0) {
      Nan::Set(pack, Interned(isolate, &n.leaderEpoch, "leaderEpoch"),
               Nan::New<v8::Number>(leader_epoch));
    }

    return pack;
  } else {
    return RdKafkaError(message->err());
  }
}

`;

function main() {
  const dir = packageDir();
  if (dir === undefined) return say('@confluentinc/kafka-javascript is not installed: nothing to patch');
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  if (version !== VERSION) return say(`version ${version}, not ${VERSION}: left as it is`);
  const makefile = path.join(dir, 'build', 'Makefile');
  const binary = path.join(dir, 'build', 'Release', 'confluent-kafka-javascript.node');
  if (!existsSync(makefile) || !existsSync(binary)) {
    return say('not built from source here (a prebuilt binary): left as it is');
  }
  const source = path.join(dir, 'src', 'common.cc');
  let text = readFileSync(source, 'utf8');
  if (!text.includes(MARK)) {
    const from = text.indexOf(START);
    const to = text.indexOf(END, from);
    if (from < 0 || to < 0 || text.indexOf(START, from + 1) >= 0) {
      return say('src/common.cc is not the one this patch knows: left as it is');
    }
    text = text.slice(0, from) + REPLACEMENT + text.slice(to);
    writeFileSync(source, text);
    say('src/common.cc: record property names interned once');
  } else if (statSync(binary).mtimeMs >= statSync(source).mtimeMs) {
    return say('already patched and built');
  }
  say('rebuilding the binding (about 10 s)');
  const r = spawnSync('make', ['-C', path.join(dir, 'build'), 'BUILDTYPE=Release'], { encoding: 'utf8' });
  if (r.status !== 0) {
    // A failed compile leaves the binary make had before: the unpatched one, which works.
    process.stderr.write(`${r.stderr ?? ''}${r.error ?? ''}\n`);
    return say('the rebuild failed (above): the binding stays as built by npm ci');
  }
  say('rebuilt');
}

main();
