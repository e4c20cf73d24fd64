"""Template helpers for audio: waveform bars from peaks, and times as m:ss."""

from django import template

from clones.audio import clock

register = template.Library()

# The SVG's coordinate box; the page scales it to its width.
WIDTH, HEIGHT = 240, 48


@register.filter
def waveform_bars(peaks):
    """One bar per peak, centred on the middle line (in SVG user units, as strings)."""
    peaks = list(peaks or [])
    if not peaks:
        return []
    step = WIDTH / len(peaks)
    loudest = max(max(float(p) for p in peaks), 0.05)  # drawn to fill the height; quiet stays quiet
    bars = []
    for index, peak in enumerate(peaks):
        height = max(float(peak) / loudest, 0.02) * HEIGHT
        bars.append(
            {
                "x": f"{index * step + step * 0.15:.2f}",
                "y": f"{(HEIGHT - height) / 2:.2f}",
                "width": f"{step * 0.7:.2f}",
                "height": f"{height:.2f}",
            }
        )
    return bars


@register.filter
def waveform_path(peaks):
    """The same bars as one SVG path ("d"), for pages that draw many waveforms: a gallery page of
    cards renders one attribute per card instead of a template loop over every bar."""
    return " ".join(
        f"M{bar['x']} {bar['y']}h{bar['width']}v{bar['height']}h-{bar['width']}z" for bar in waveform_bars(peaks)
    )


@register.filter(name="clock")
def clock_filter(seconds):
    return clock(seconds or 0)
