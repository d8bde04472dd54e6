// Microphone recording with MediaRecorder. Browsers record WebM/Ogg Opus; the take is decoded
// here and sent as a 16-bit mono WAV, which every server-side check reads exactly.

const WAV_RATE = 24000;

// Start recording; resolves to {stop()} whose promise gives the take as a WAV Blob.
export async function recordWav(onTick) {
  if (!navigator.mediaDevices || !window.MediaRecorder) {
    throw new Error("This browser cannot record audio here (it needs https or localhost).");
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: true },
    });
  } catch (error) {
    throw new Error(`The microphone is not available: ${error.message || error.name}`);
  }
  const recorder = new MediaRecorder(stream);
  const parts = [];
  recorder.addEventListener("dataavailable", (event) => event.data.size && parts.push(event.data));
  const started = performance.now();
  const timer = setInterval(() => onTick((performance.now() - started) / 1000), 250);
  recorder.start(250);
  return {
    stop: () =>
      new Promise((resolve, reject) => {
        recorder.addEventListener("stop", async () => {
          clearInterval(timer);
          stream.getTracks().forEach((track) => track.stop());
          try {
            resolve(await toWav(new Blob(parts, { type: recorder.mimeType })));
          } catch (error) {
            reject(new Error(`The recording could not be read: ${error.message}`));
          }
        });
        recorder.stop();
      }),
  };
}

async function toWav(blob) {
  const context = new AudioContext({ sampleRate: WAV_RATE });
  try {
    const buffer = await context.decodeAudioData(await blob.arrayBuffer());
    return encodeWav(mixDown(buffer), buffer.sampleRate);
  } finally {
    context.close();
  }
}

function mixDown(buffer) {
  const out = new Float32Array(buffer.length);
  for (let channel = 0; channel < buffer.numberOfChannels; channel++) {
    const data = buffer.getChannelData(channel);
    for (let i = 0; i < data.length; i++) out[i] += data[i] / buffer.numberOfChannels;
  }
  return out;
}

export function encodeWav(samples, rate) {
  const view = new DataView(new ArrayBuffer(44 + samples.length * 2));
  const text = (offset, value) => [...value].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + samples.length * 2, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, "data");
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Blob([view], { type: "audio/wav" });
}
