// The offer sound: a short two-tone chime made with WebAudio (no audio file to ship or load).
let context: AudioContext | null = null;

/** Plays the chime; silently does nothing where audio is unavailable or not yet allowed. */
export function beep(): void {
  try {
    context ??= new AudioContext();
    if (context.state === "suspended") void context.resume().catch(() => undefined);
    const start = context.currentTime;
    [880, 660].forEach((freq, i) => {
      const osc = context!.createOscillator();
      const gain = context!.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      const t = start + i * 0.18;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.16);
      osc.connect(gain).connect(context!.destination);
      osc.start(t);
      osc.stop(t + 0.17);
    });
  } catch {
    // No audio device or autoplay refused: the offer is still shown.
  }
}
