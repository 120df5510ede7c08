package io.jmagent.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;

/**
 * When some files were last changed and how long they are: a file replaced (a certificate
 * rotated, a credentials file rewritten) changes at least one, so comparing two readings tells
 * whether to read the files again.
 */
public record FileStamps(List<Stamp> stamps) {

    /** One file's reading. */
    public record Stamp(Path path, FileTime modified, long size) {}

    /** The files' readings now (null paths are skipped); an IllegalArgumentException naming a missing file. */
    public static FileStamps of(Path... files) {
        List<Stamp> stamps = new ArrayList<>(files.length);
        for (Path p : files) {
            if (p == null) {
                continue;
            }
            try {
                stamps.add(new Stamp(p, Files.getLastModifiedTime(p), Files.size(p)));
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException(p + ": no such file", e);
            } catch (IOException e) {
                throw new IllegalArgumentException(p + ": " + e.getMessage(), e);
            }
        }
        return new FileStamps(List.copyOf(stamps));
    }
}
