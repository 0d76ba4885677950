package org.wharf.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import javax.imageio.ImageIO;

/**
 * Draws the comparison as a PNG with Java2D (headless, no dependency): per scenario, Wharf's
 * advantage over the best peer of that scenario as a bar against the 1.0 line (Wharf/peer, or
 * peer/Wharf where less is better), with both figures and the peer's name written beside it;
 * where a second Wharf row runs (its TLS on Conscrypt, its batch datagram path, its gateway
 * busy polling), a second bar (in blue and green, not red and green) for that row against the
 * same peer, and against its counterpart ({@code haproxy-busy} for {@code wharf-busy}).
 */
final class Chart {

    /**
     * One bar of the chart.
     *
     * @param name the scenario (and, for a second Wharf row, which)
     * @param unit its unit
     * @param wharf Wharf's median
     * @param peer the best peer's median
     * @param wharfName which Wharf row that is ({@code wharf}, {@code wharf-conscrypt}, {@code wharf-busy})
     * @param peerName which peer that is
     * @param lowerIsBetter whether the smaller figure wins (memory)
     * @param note written after the figures (such as a side that did not resume), or empty
     */
    record Bar(String name, String unit, double wharf, double peer, String wharfName, String peerName,
            boolean lowerIsBetter, String note) {

        /**
         * A bar of Wharf (on the JDK's engine) with no note.
         *
         * @param name the scenario
         * @param unit its unit
         * @param wharf Wharf's median
         * @param peer the best peer's median
         * @param peerName which peer that is
         * @param lowerIsBetter whether the smaller figure wins (memory)
         */
        Bar(String name, String unit, double wharf, double peer, String peerName, boolean lowerIsBetter) {
            this(name, unit, wharf, peer, "wharf", peerName, lowerIsBetter, "");
        }

        /** @return above 1.0 when Wharf does better */
        double advantage() {
            return lowerIsBetter ? peer / wharf : wharf / peer;
        }
    }

    private Chart() {
    }

    /**
     * Writes the chart.
     *
     * @param bars one per scenario
     * @param title the heading (date, machine)
     * @param file the PNG to write
     * @throws IOException if the file cannot be written
     */
    static void write(List<Bar> bars, String title, Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        int rowHeight = 46;
        int left = 230;
        int plot = 420;
        int width = left + plot + 660;
        int top = 60;
        int height = top + rowHeight * bars.size() + 40;
        double max = 2.0;
        for (Bar bar : bars) {
            max = Math.max(max, Math.ceil(bar.advantage() * 2) / 2);
        }
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setColor(Color.DARK_GRAY);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            g.drawString("Wharf's advantage over the best peer of each scenario (above 1.0: Wharf does better)", 12, 22);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            List<String> second = bars.stream().map(Bar::wharfName).filter(name -> !name.equals("wharf")).distinct()
                    .map(Chart::what).toList();
            g.drawString(title + (second.isEmpty() ? "" : "; second Wharf rows (" + String.join(", ", second)
                    + ") in light green / blue"), 12, 40);
            for (int i = 0; i < bars.size(); i++) {
                Bar bar = bars.get(i);
                double ratio = bar.advantage();
                int y = top + i * rowHeight;
                g.setColor(Color.DARK_GRAY);
                g.drawString(bar.name(), 12, y + 20);
                boolean main = bar.wharfName().equals("wharf");
                g.setColor(ratio >= 1.0 ? new Color(main ? 0x2e7d32 : 0x66bb6a)
                        : new Color(main ? 0xc62828 : 0x1565c0));
                g.fillRect(left, y + 6, (int) Math.round(plot * Math.min(ratio, max) / max), 22);
                g.setColor(Color.DARK_GRAY);
                g.drawString(String.format(Locale.ROOT, "%.2f%s  %s %,.0f / %s %,.0f %s%s", ratio,
                        bar.lowerIsBetter() ? " (peer/wharf)" : "", bar.wharfName(), bar.wharf(), bar.peerName(),
                        bar.peer(), bar.unit(), bar.note().isEmpty() ? "" : "  " + bar.note()),
                        left + plot + 10, y + 22);
            }
            int one = left + (int) Math.round(plot / max);
            g.setColor(Color.BLACK);
            g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {4, 4}, 0));
            g.drawLine(one, top, one, top + rowHeight * bars.size());
            g.drawString("1.0", one - 8, top + rowHeight * bars.size() + 16);
        } finally {
            g.dispose();
        }
        ImageIO.write(image, "png", file.toFile());
    }

    /** @return a second Wharf row's name and what it changes, for the chart's heading */
    static String what(String wharfName) {
        return switch (wharfName) {
            case "wharf-conscrypt" -> "wharf-conscrypt: its TLS on Conscrypt";
            case "wharf-ffm" -> "wharf-ffm: batch datagrams";
            case "wharf-busy" -> "wharf-busy: busy polling";
            default -> wharfName;
        };
    }
}
